//! f16 as a storage format on any backend: an adapter that runs each primitive
//! on f16 inputs as its f32 kernel and rounds the result to f16 once.
//!
//! This is the reference semantics of the mixed-precision blocks (the official
//! CUDA kernels load halves into float registers, compute in float and store
//! halves; cuBLAS/cuDNN accumulate in f32). A backend only has to move f16 in
//! and out (`upload`, `download`, `fill`, `cast`); one with native f16 kernels
//! can take over an op by answering it itself once that is measured faster.

use crate::backend::*;
use crate::{DType, HostBuffer, Result, Shape, Storage};

#[derive(Debug)]
pub struct F16ViaF32<B: ?Sized>(pub Box<B>);

impl<B: Backend + ?Sized> F16ViaF32<B> {
    fn is_f16(x: &Storage) -> bool {
        x.dtype() == DType::F16
    }

    /// `x` as f32 when it is f16, else itself.
    fn widen(&self, x: &Storage) -> Result<Storage> {
        if Self::is_f16(x) {
            self.0.cast(x, DType::F32)
        } else {
            Ok(x.clone())
        }
    }

    fn widen_opt(&self, x: Option<&Storage>) -> Result<Option<Storage>> {
        x.map(|x| self.widen(x)).transpose()
    }

    /// The result back in f16 when the op's data input was f16.
    fn narrow(&self, y: Result<Storage>, was_f16: bool) -> Result<Storage> {
        let y = y?;
        if was_f16 && y.dtype() != DType::F16 {
            self.0.cast(&y, DType::F16)
        } else {
            Ok(y)
        }
    }
}

impl<B: Backend + ?Sized> Backend for F16ViaF32<B> {
    fn name(&self) -> String {
        self.0.name()
    }

    fn upload(&self, data: HostBuffer) -> Result<Storage> {
        self.0.upload(data)
    }
    fn download(&self, x: &Storage) -> Result<HostBuffer> {
        self.0.download(x)
    }
    fn fill(&self, value: f64, len: usize, dtype: DType) -> Result<Storage> {
        self.0.fill(value, len, dtype)
    }
    fn cast(&self, x: &Storage, dtype: DType) -> Result<Storage> {
        self.0.cast(x, dtype)
    }

    fn unary(&self, op: UnaryOp, x: &Storage) -> Result<Storage> {
        let y = self.0.unary(op, &self.widen(x)?);
        self.narrow(y, Self::is_f16(x))
    }

    fn binary(
        &self,
        op: BinaryOp,
        a: (&Storage, &Shape),
        b: (&Storage, &Shape),
        out: &Shape,
    ) -> Result<Storage> {
        let (wa, wb) = (self.widen(a.0)?, self.widen(b.0)?);
        let y = self.0.binary(op, (&wa, a.1), (&wb, b.1), out);
        self.narrow(y, Self::is_f16(a.0))
    }

    fn where_cond(
        &self,
        cond: (&Storage, &Shape),
        a: (&Storage, &Shape),
        b: (&Storage, &Shape),
        out: &Shape,
    ) -> Result<Storage> {
        let (wc, wa, wb) = (self.widen(cond.0)?, self.widen(a.0)?, self.widen(b.0)?);
        let y = self
            .0
            .where_cond((&wc, cond.1), (&wa, a.1), (&wb, b.1), out);
        self.narrow(y, Self::is_f16(a.0))
    }

    fn reduce(&self, op: ReduceOp, x: &Storage, shape: &Shape, axes: &[usize]) -> Result<Storage> {
        let y = self.0.reduce(op, &self.widen(x)?, shape, axes);
        self.narrow(y, Self::is_f16(x))
    }

    fn broadcast_to(&self, x: &Storage, shape: &Shape, out: &Shape) -> Result<Storage> {
        let y = self.0.broadcast_to(&self.widen(x)?, shape, out);
        self.narrow(y, Self::is_f16(x))
    }

    fn permute(&self, x: &Storage, shape: &Shape, perm: &[usize]) -> Result<Storage> {
        let y = self.0.permute(&self.widen(x)?, shape, perm);
        self.narrow(y, Self::is_f16(x))
    }

    fn pad(
        &self,
        x: &Storage,
        shape: &Shape,
        pads: &[(isize, isize)],
        value: f64,
    ) -> Result<Storage> {
        let y = self.0.pad(&self.widen(x)?, shape, pads, value);
        self.narrow(y, Self::is_f16(x))
    }

    fn concat(&self, xs: &[(&Storage, &Shape)], axis: usize) -> Result<Storage> {
        let wide = xs
            .iter()
            .map(|(s, _)| self.widen(s))
            .collect::<Result<Vec<_>>>()?;
        let args: Vec<(&Storage, &Shape)> = wide.iter().zip(xs).map(|(w, x)| (w, x.1)).collect();
        let y = self.0.concat(&args, axis);
        self.narrow(y, xs.first().is_some_and(|x| Self::is_f16(x.0)))
    }

    fn flip(&self, x: &Storage, shape: &Shape, axes: &[usize]) -> Result<Storage> {
        let y = self.0.flip(&self.widen(x)?, shape, axes);
        self.narrow(y, Self::is_f16(x))
    }

    fn index_select(
        &self,
        x: &Storage,
        shape: &Shape,
        axis: usize,
        index: &[usize],
    ) -> Result<Storage> {
        let y = self.0.index_select(&self.widen(x)?, shape, axis, index);
        self.narrow(y, Self::is_f16(x))
    }

    fn index_add(
        &self,
        src: &Storage,
        src_shape: &Shape,
        axis: usize,
        index: &[usize],
        dim_size: usize,
    ) -> Result<Storage> {
        let y = self
            .0
            .index_add(&self.widen(src)?, src_shape, axis, index, dim_size);
        self.narrow(y, Self::is_f16(src))
    }

    fn gather(
        &self,
        x: &Storage,
        shape: &Shape,
        axis: usize,
        index: &[usize],
        index_shape: &Shape,
    ) -> Result<Storage> {
        let y = self
            .0
            .gather(&self.widen(x)?, shape, axis, index, index_shape);
        self.narrow(y, Self::is_f16(x))
    }

    fn scatter_add(
        &self,
        src: &Storage,
        src_shape: &Shape,
        axis: usize,
        index: &[usize],
        out_shape: &Shape,
    ) -> Result<Storage> {
        let y = self
            .0
            .scatter_add(&self.widen(src)?, src_shape, axis, index, out_shape);
        self.narrow(y, Self::is_f16(src))
    }

    fn matmul(&self, a: &Storage, b: &Storage, spec: &MatmulSpec) -> Result<Storage> {
        let y = self.0.matmul(&self.widen(a)?, &self.widen(b)?, spec);
        self.narrow(y, Self::is_f16(a))
    }

    fn conv2d(
        &self,
        x: (&Storage, &Shape),
        w: (&Storage, &Shape),
        spec: &Conv2dSpec,
    ) -> Result<Storage> {
        let (wx, ww) = (self.widen(x.0)?, self.widen(w.0)?);
        let y = self.0.conv2d((&wx, x.1), (&ww, w.1), spec);
        self.narrow(y, Self::is_f16(x.0))
    }

    fn conv_transpose2d(
        &self,
        x: (&Storage, &Shape),
        w: (&Storage, &Shape),
        spec: &ConvTranspose2dSpec,
    ) -> Result<Storage> {
        let (wx, ww) = (self.widen(x.0)?, self.widen(w.0)?);
        let y = self.0.conv_transpose2d((&wx, x.1), (&ww, w.1), spec);
        self.narrow(y, Self::is_f16(x.0))
    }

    fn conv2d_weight_grad(
        &self,
        x: (&Storage, &Shape),
        dy: (&Storage, &Shape),
        w_shape: &Shape,
        spec: &Conv2dSpec,
    ) -> Result<Storage> {
        let (wx, wdy) = (self.widen(x.0)?, self.widen(dy.0)?);
        let y = self
            .0
            .conv2d_weight_grad((&wx, x.1), (&wdy, dy.1), w_shape, spec);
        self.narrow(y, Self::is_f16(x.0))
    }

    fn grid_sample(
        &self,
        x: (&Storage, &Shape),
        grid: (&Storage, &Shape),
        spec: &GridSampleSpec,
    ) -> Result<Storage> {
        let (wx, wg) = (self.widen(x.0)?, self.widen(grid.0)?);
        let y = self.0.grid_sample((&wx, x.1), (&wg, grid.1), spec);
        self.narrow(y, Self::is_f16(x.0))
    }

    fn grid_sample_backward(
        &self,
        dy: (&Storage, &Shape),
        grid: (&Storage, &Shape),
        x_shape: &Shape,
        spec: &GridSampleSpec,
    ) -> Result<Storage> {
        let (wdy, wg) = (self.widen(dy.0)?, self.widen(grid.0)?);
        let y = self
            .0
            .grid_sample_backward((&wdy, dy.1), (&wg, grid.1), x_shape, spec);
        self.narrow(y, Self::is_f16(dy.0))
    }

    fn pool2d(&self, x: (&Storage, &Shape), spec: &Pool2dSpec) -> Result<Storage> {
        let y = self.0.pool2d((&self.widen(x.0)?, x.1), spec);
        self.narrow(y, Self::is_f16(x.0))
    }

    fn avg_pool2d_backward(
        &self,
        dy: (&Storage, &Shape),
        x_shape: &Shape,
        spec: &Pool2dSpec,
    ) -> Result<Storage> {
        let y = self
            .0
            .avg_pool2d_backward((&self.widen(dy.0)?, dy.1), x_shape, spec);
        self.narrow(y, Self::is_f16(dy.0))
    }

    fn max_pool2d_argmax(&self, x: (&Storage, &Shape), spec: &Pool2dSpec) -> Result<Vec<usize>> {
        self.0.max_pool2d_argmax((&self.widen(x.0)?, x.1), spec)
    }

    fn bias_act(
        &self,
        x: &Storage,
        b: Option<&Storage>,
        layout: BiasLayout,
        spec: &BiasActSpec,
    ) -> Result<Storage> {
        let (wx, wb) = (self.widen(x)?, self.widen_opt(b)?);
        let y = self.0.bias_act(&wx, wb.as_ref(), layout, spec);
        self.narrow(y, Self::is_f16(x))
    }

    fn bias_act_grad(
        &self,
        dy: &Storage,
        x: &Storage,
        b: Option<&Storage>,
        layout: BiasLayout,
        spec: &BiasActSpec,
    ) -> Result<Storage> {
        let (wdy, wx, wb) = (self.widen(dy)?, self.widen(x)?, self.widen_opt(b)?);
        let y = self.0.bias_act_grad(&wdy, &wx, wb.as_ref(), layout, spec);
        self.narrow(y, Self::is_f16(x))
    }

    fn upfirdn2d(
        &self,
        x: (&Storage, &Shape),
        f: (&Storage, &Shape),
        spec: &Upfirdn2dSpec,
    ) -> Result<Storage> {
        let (wx, wf) = (self.widen(x.0)?, self.widen(f.0)?);
        let y = self.0.upfirdn2d((&wx, x.1), (&wf, f.1), spec);
        self.narrow(y, Self::is_f16(x.0))
    }

    fn modulate_weight(
        &self,
        weight: &Storage,
        styles: &Storage,
        dims: [usize; 4],
        demodulate: bool,
        transpose: bool,
    ) -> Result<Storage> {
        let (ww, ws) = (self.widen(weight)?, self.widen(styles)?);
        let y = self
            .0
            .modulate_weight(&ww, &ws, dims, demodulate, transpose);
        self.narrow(y, Self::is_f16(weight))
    }
}
