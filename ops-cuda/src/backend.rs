//! `CudaBackend`: the `Backend` trait on one GPU, each primitive forwarded to
//! the launch code in its op folder.

use crate::device::Inner;
use crate::{
    bias_act, binary, conv, fill, grid_sample, index, matmul, modulate_weight, movement, pool2d,
    reduce, unary, upfirdn2d,
};
use std::sync::Arc;
use tcgan_core::half::{f16, slice::HalfFloatSliceExt, vec::HalfBitsVecExt};
use tcgan_core::{
    Backend, BiasActSpec, BiasLayout, BinaryOp, Conv2dSpec, ConvTranspose2dSpec, DType,
    GridSampleSpec, HostBuffer, MatmulSpec, Pool2dSpec, ReduceOp, Result, Shape, Storage, UnaryOp,
    Upfirdn2dSpec,
};

#[derive(Debug, Clone)]
pub struct CudaBackend {
    pub(crate) inner: Arc<Inner>,
}

fn wrap(s: crate::storage::CudaStorage) -> Storage {
    Arc::new(s)
}

impl Backend for CudaBackend {
    fn name(&self) -> String {
        self.inner.name.clone()
    }

    fn upload(&self, data: HostBuffer) -> Result<Storage> {
        Ok(wrap(match &data {
            HostBuffer::F32(v) => self.inner.upload(v, DType::F32)?,
            HostBuffer::F64(v) => self.inner.upload(v, DType::F64)?,
            // As raw bits: binary16 has no DeviceRepr of its own.
            HostBuffer::F16(v) => self.inner.upload(v.reinterpret_cast(), DType::F16)?,
        }))
    }

    fn download(&self, x: &Storage) -> Result<HostBuffer> {
        let s = self.inner.storage(x)?;
        Ok(match s.dtype {
            DType::F32 => HostBuffer::F32(self.inner.download(s)?),
            DType::F64 => HostBuffer::F64(self.inner.download(s)?),
            DType::F16 => HostBuffer::F16(self.inner.download::<u16>(s)?.reinterpret_into::<f16>()),
        })
    }

    fn fill(&self, value: f64, len: usize, dtype: DType) -> Result<Storage> {
        Ok(wrap(fill::fill(&self.inner, value, len, dtype)?))
    }

    fn cast(&self, x: &Storage, dtype: DType) -> Result<Storage> {
        let s = self.inner.storage(x)?;
        if s.dtype == dtype {
            return Ok(x.clone());
        }
        Ok(wrap(fill::cast(&self.inner, s, dtype)?))
    }

    fn unary(&self, op: UnaryOp, x: &Storage) -> Result<Storage> {
        Ok(wrap(unary::unary(&self.inner, op, self.inner.storage(x)?)?))
    }

    fn binary(
        &self,
        op: BinaryOp,
        a: (&Storage, &Shape),
        b: (&Storage, &Shape),
        out: &Shape,
    ) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(binary::binary(
            i,
            op,
            (i.storage(a.0)?, a.1),
            (i.storage(b.0)?, b.1),
            out,
        )?))
    }

    fn where_cond(
        &self,
        cond: (&Storage, &Shape),
        a: (&Storage, &Shape),
        b: (&Storage, &Shape),
        out: &Shape,
    ) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(binary::where_cond(
            i,
            (i.storage(cond.0)?, cond.1),
            (i.storage(a.0)?, a.1),
            (i.storage(b.0)?, b.1),
            out,
        )?))
    }

    fn reduce(&self, op: ReduceOp, x: &Storage, shape: &Shape, axes: &[usize]) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(reduce::reduce(i, op, i.storage(x)?, shape, axes)?))
    }

    fn broadcast_to(&self, x: &Storage, shape: &Shape, out: &Shape) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(movement::broadcast_to(i, i.storage(x)?, shape, out)?))
    }

    fn permute(&self, x: &Storage, shape: &Shape, perm: &[usize]) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(movement::permute(i, i.storage(x)?, shape, perm)?))
    }

    fn pad(
        &self,
        x: &Storage,
        shape: &Shape,
        pads: &[(isize, isize)],
        value: f64,
    ) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(movement::pad(i, i.storage(x)?, shape, pads, value)?))
    }

    fn concat(&self, xs: &[(&Storage, &Shape)], axis: usize) -> Result<Storage> {
        let i = &self.inner;
        let parts = xs
            .iter()
            .map(|(s, sh)| Ok((i.storage(s)?, *sh)))
            .collect::<Result<Vec<_>>>()?;
        Ok(wrap(movement::concat(i, &parts, axis)?))
    }

    fn flip(&self, x: &Storage, shape: &Shape, axes: &[usize]) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(movement::flip(i, i.storage(x)?, shape, axes)?))
    }

    fn index_select(
        &self,
        x: &Storage,
        shape: &Shape,
        axis: usize,
        index: &[usize],
    ) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(index::index_select(
            i,
            i.storage(x)?,
            shape,
            axis,
            index,
        )?))
    }

    fn index_add(
        &self,
        src: &Storage,
        src_shape: &Shape,
        axis: usize,
        index: &[usize],
        dim_size: usize,
    ) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(index::index_add(
            i,
            i.storage(src)?,
            src_shape,
            axis,
            index,
            dim_size,
        )?))
    }

    fn gather(
        &self,
        x: &Storage,
        shape: &Shape,
        axis: usize,
        index: &[usize],
        index_shape: &Shape,
    ) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(index::gather(
            i,
            i.storage(x)?,
            shape,
            axis,
            index,
            index_shape,
        )?))
    }

    fn scatter_add(
        &self,
        src: &Storage,
        src_shape: &Shape,
        axis: usize,
        index: &[usize],
        out_shape: &Shape,
    ) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(index::scatter_add(
            i,
            i.storage(src)?,
            src_shape,
            axis,
            index,
            out_shape,
        )?))
    }

    fn matmul(&self, a: &Storage, b: &Storage, spec: &MatmulSpec) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(matmul::matmul(i, i.storage(a)?, i.storage(b)?, spec)?))
    }

    fn conv2d(
        &self,
        x: (&Storage, &Shape),
        w: (&Storage, &Shape),
        spec: &Conv2dSpec,
    ) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(conv::conv2d(
            i,
            (i.storage(x.0)?, x.1),
            (i.storage(w.0)?, w.1),
            spec,
        )?))
    }

    fn conv_transpose2d(
        &self,
        x: (&Storage, &Shape),
        w: (&Storage, &Shape),
        spec: &ConvTranspose2dSpec,
    ) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(conv::conv_transpose2d(
            i,
            (i.storage(x.0)?, x.1),
            (i.storage(w.0)?, w.1),
            spec,
        )?))
    }

    fn conv2d_weight_grad(
        &self,
        x: (&Storage, &Shape),
        dy: (&Storage, &Shape),
        w_shape: &Shape,
        spec: &Conv2dSpec,
    ) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(conv::conv2d_weight_grad(
            i,
            (i.storage(x.0)?, x.1),
            (i.storage(dy.0)?, dy.1),
            w_shape,
            spec,
        )?))
    }
    fn grid_sample(
        &self,
        x: (&Storage, &Shape),
        g: (&Storage, &Shape),
        spec: &GridSampleSpec,
    ) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(grid_sample::grid_sample(
            i,
            i.storage(x.0)?,
            x.1,
            i.storage(g.0)?,
            g.1,
            spec,
        )?))
    }

    fn grid_sample_backward(
        &self,
        dy: (&Storage, &Shape),
        g: (&Storage, &Shape),
        x_shape: &Shape,
        spec: &GridSampleSpec,
    ) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(grid_sample::grid_sample_backward(
            i,
            i.storage(dy.0)?,
            i.storage(g.0)?,
            g.1,
            x_shape,
            spec,
        )?))
    }
    fn pool2d(&self, x: (&Storage, &Shape), spec: &Pool2dSpec) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(pool2d::pool2d(i, i.storage(x.0)?, x.1, spec)?))
    }

    fn avg_pool2d_backward(
        &self,
        dy: (&Storage, &Shape),
        x_shape: &Shape,
        spec: &Pool2dSpec,
    ) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(pool2d::avg_pool2d_backward(
            i,
            i.storage(dy.0)?,
            x_shape,
            spec,
        )?))
    }

    fn max_pool2d_argmax(&self, x: (&Storage, &Shape), spec: &Pool2dSpec) -> Result<Vec<usize>> {
        let i = &self.inner;
        pool2d::max_pool2d_argmax(i, i.storage(x.0)?, x.1, spec)
    }

    fn bias_act(
        &self,
        x: &Storage,
        b: Option<&Storage>,
        layout: BiasLayout,
        spec: &BiasActSpec,
    ) -> Result<Storage> {
        let i = &self.inner;
        let b = b.map(|b| i.storage(b)).transpose()?;
        Ok(wrap(bias_act::bias_act(i, i.storage(x)?, b, layout, spec)?))
    }

    fn bias_act_grad(
        &self,
        dy: &Storage,
        x: &Storage,
        b: Option<&Storage>,
        layout: BiasLayout,
        spec: &BiasActSpec,
    ) -> Result<Storage> {
        let i = &self.inner;
        let b = b.map(|b| i.storage(b)).transpose()?;
        Ok(wrap(bias_act::bias_act_grad(
            i,
            i.storage(dy)?,
            i.storage(x)?,
            b,
            layout,
            spec,
        )?))
    }

    fn upfirdn2d(
        &self,
        x: (&Storage, &Shape),
        f: (&Storage, &Shape),
        spec: &Upfirdn2dSpec,
    ) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(upfirdn2d::upfirdn2d(
            i,
            (i.storage(x.0)?, x.1),
            (i.storage(f.0)?, f.1),
            spec,
        )?))
    }

    fn modulate_weight(
        &self,
        weight: &Storage,
        styles: &Storage,
        dims: [usize; 4],
        demodulate: bool,
        transpose: bool,
    ) -> Result<Storage> {
        let i = &self.inner;
        Ok(wrap(modulate_weight::modulate_weight(
            i,
            i.storage(weight)?,
            i.storage(styles)?,
            dims,
            demodulate,
            transpose,
        )?))
    }
}
