//! Indexing with host-side indices: `index_select` / `index_add` and
//! `gather` / `scatter_add`, each pair the other's adjoint.

use crate::autograd::GradFn;
use crate::{Error, Result, Shape, Tensor};
use std::sync::Arc;

#[derive(Clone, Copy)]
enum Kind {
    IndexSelect,
    IndexAdd,
    Gather,
    ScatterAdd,
}

struct IndexGrad {
    kind: Kind,
    axis: usize,
    index: Arc<[usize]>,
    inputs: [Tensor; 1],
}

impl GradFn for IndexGrad {
    fn name(&self) -> &'static str {
        match self.kind {
            Kind::IndexSelect => "index_select",
            Kind::IndexAdd => "index_add",
            Kind::Gather => "gather",
            Kind::ScatterAdd => "scatter_add",
        }
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, _needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let x = &self.inputs[0];
        let dx = match self.kind {
            Kind::IndexSelect => g.index_add(self.axis, &self.index, x.dim(self.axis))?,
            Kind::IndexAdd => g.index_select(self.axis, &self.index)?,
            Kind::Gather => g.scatter_add(self.axis, &self.index, x.shape())?,
            Kind::ScatterAdd => g.gather(self.axis, &self.index, x.shape())?,
        };
        Ok(vec![Some(dx)])
    }
}

impl Tensor {
    fn record_index(
        &self,
        kind: Kind,
        axis: usize,
        index: &[usize],
        storage: crate::Storage,
        out: Shape,
    ) -> Tensor {
        Tensor::from_op(storage, out, self.device(), &[self], || {
            Arc::new(IndexGrad {
                kind,
                axis,
                index: index.into(),
                inputs: [self.clone()],
            })
        })
    }

    /// Rows `index[i]` along `axis` (`torch.index_select`).
    pub fn index_select(&self, axis: usize, index: &[usize]) -> Result<Tensor> {
        if axis >= self.rank() {
            return Err(Error::invalid(
                "index_select",
                self.shape(),
                format!("axis {axis}"),
            ));
        }
        if let Some(&bad) = index.iter().find(|&&i| i >= self.dim(axis)) {
            return Err(Error::invalid(
                "index_select",
                self.shape(),
                format!("index {bad} out of range along axis {axis}"),
            ));
        }
        let mut out = self.dims().to_vec();
        out[axis] = index.len();
        let storage =
            self.device()
                .backend()
                .index_select(&self.storage(), self.shape(), axis, index)?;
        Ok(self.record_index(Kind::IndexSelect, axis, index, storage, Shape::new(out)))
    }

    /// Zeros with `axis` of size `dim_size`, then adds row `i` of `self` at `index[i]`.
    pub fn index_add(&self, axis: usize, index: &[usize], dim_size: usize) -> Result<Tensor> {
        if axis >= self.rank() || index.len() != self.dim(axis) {
            return Err(Error::invalid(
                "index_add",
                self.shape(),
                format!("{} indices along axis {axis}", index.len()),
            ));
        }
        if let Some(&bad) = index.iter().find(|&&i| i >= dim_size) {
            return Err(Error::invalid(
                "index_add",
                self.shape(),
                format!("index {bad} out of range for size {dim_size}"),
            ));
        }
        let mut out = self.dims().to_vec();
        out[axis] = dim_size;
        let storage = self.device().backend().index_add(
            &self.storage(),
            self.shape(),
            axis,
            index,
            dim_size,
        )?;
        Ok(self.record_index(Kind::IndexAdd, axis, index, storage, Shape::new(out)))
    }

    /// `out[p] = self[p with axis coordinate replaced by index[p]]`; `index` is laid
    /// out in `index_shape`, which matches `self` on every other axis
    /// (`torch.gather`).
    pub fn gather(&self, axis: usize, index: &[usize], index_shape: &Shape) -> Result<Tensor> {
        check_gather("gather", self.shape(), axis, index, index_shape)?;
        let storage = self.device().backend().gather(
            &self.storage(),
            self.shape(),
            axis,
            index,
            index_shape,
        )?;
        Ok(self.record_index(Kind::Gather, axis, index, storage, index_shape.clone()))
    }

    /// The adjoint of `gather`: zeros of `out_shape`, then `out[.., index[p], ..] += self[p]`.
    pub fn scatter_add(&self, axis: usize, index: &[usize], out_shape: &Shape) -> Result<Tensor> {
        check_gather("scatter_add", out_shape, axis, index, self.shape())?;
        let storage = self.device().backend().scatter_add(
            &self.storage(),
            self.shape(),
            axis,
            index,
            out_shape,
        )?;
        Ok(self.record_index(Kind::ScatterAdd, axis, index, storage, out_shape.clone()))
    }
}

fn check_gather(
    op: &'static str,
    src: &Shape,
    axis: usize,
    index: &[usize],
    index_shape: &Shape,
) -> Result<()> {
    if axis >= src.rank() || index_shape.rank() != src.rank() {
        return Err(Error::shape(op, src, index_shape, format!("axis {axis}")));
    }
    if index.len() != index_shape.numel() {
        return Err(Error::DataLength {
            op,
            len: index.len(),
            shape: index_shape.clone(),
        });
    }
    if (0..src.rank()).any(|i| i != axis && src.dim(i) != index_shape.dim(i)) {
        return Err(Error::shape(
            op,
            src,
            index_shape,
            format!("must agree except on axis {axis}"),
        ));
    }
    if let Some(&bad) = index.iter().find(|&&i| i >= src.dim(axis)) {
        return Err(Error::invalid(
            op,
            src,
            format!("index {bad} out of range along axis {axis}"),
        ));
    }
    Ok(())
}
