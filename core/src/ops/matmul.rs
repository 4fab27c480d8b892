//! Matrix products with optional transposes, batched over leading axes.

use crate::autograd::GradFn;
use crate::backend::MatmulSpec;
use crate::{Error, Result, Shape, Tensor};
use std::sync::Arc;

struct MatmulGrad {
    trans_a: bool,
    trans_b: bool,
    inputs: [Tensor; 2],
}

impl GradFn for MatmulGrad {
    fn name(&self) -> &'static str {
        "matmul"
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let [a, b] = &self.inputs;
        // The transposed operands are read in place by the kernel: no copies.
        let (da, db) = match (self.trans_a, self.trans_b) {
            (false, false) => (
                mm(needs[0], g, b, false, true),
                mm(needs[1], a, g, true, false),
            ),
            (true, false) => (
                mm(needs[0], b, g, false, true),
                mm(needs[1], a, g, false, false),
            ),
            (false, true) => (
                mm(needs[0], g, b, false, false),
                mm(needs[1], g, a, true, false),
            ),
            (true, true) => (
                mm(needs[0], b, g, true, true),
                mm(needs[1], g, a, true, true),
            ),
        };
        Ok(vec![da?, db?])
    }
}

fn mm(need: bool, a: &Tensor, b: &Tensor, ta: bool, tb: bool) -> Result<Option<Tensor>> {
    need.then(|| a.matmul_3d(b, ta, tb)).transpose()
}

impl Tensor {
    /// The primitive: `a [B, m, k]`-like and `b [B, k, n]`-like, equal batch.
    fn matmul_3d(&self, b: &Tensor, trans_a: bool, trans_b: bool) -> Result<Tensor> {
        let a = self;
        let (ad, bd) = (a.dims(), b.dims());
        let (m, ka) = if trans_a {
            (ad[2], ad[1])
        } else {
            (ad[1], ad[2])
        };
        let (kb, n) = if trans_b {
            (bd[2], bd[1])
        } else {
            (bd[1], bd[2])
        };
        if ka != kb || ad[0] != bd[0] {
            return Err(Error::shape(
                "matmul",
                a.shape(),
                b.shape(),
                format!("inner dimensions {ka} and {kb}"),
            ));
        }
        let spec = MatmulSpec {
            batch: ad[0],
            m,
            n,
            k: ka,
            trans_a,
            trans_b,
        };
        let storage = a
            .device()
            .backend()
            .matmul(&a.storage(), &b.storage(), &spec)?;
        Ok(Tensor::from_op(
            storage,
            Shape::new([ad[0], m, n]),
            a.device(),
            &[a, b],
            || {
                Arc::new(MatmulGrad {
                    trans_a,
                    trans_b,
                    inputs: [a.clone(), b.clone()],
                })
            },
        ))
    }

    /// `torch.matmul` for operands of rank >= 2: the last two axes multiply, the
    /// leading (batch) axes broadcast.
    pub fn matmul(&self, b: &Tensor) -> Result<Tensor> {
        self.matmul_t(b, false, false)
    }

    /// `op(self) @ op(b)` where `op` transposes the last two axes when asked,
    /// without materialising the transpose.
    pub fn matmul_t(&self, b: &Tensor, trans_a: bool, trans_b: bool) -> Result<Tensor> {
        let a = self;
        a.check_same("matmul", b)?;
        if a.rank() < 2 || b.rank() < 2 {
            return Err(Error::shape(
                "matmul",
                a.shape(),
                b.shape(),
                "operands need rank >= 2",
            ));
        }
        let (ar, br) = (a.rank(), b.rank());
        let (m, ka) = if trans_a {
            (a.dim(ar - 1), a.dim(ar - 2))
        } else {
            (a.dim(ar - 2), a.dim(ar - 1))
        };
        let (kb, n) = if trans_b {
            (b.dim(br - 1), b.dim(br - 2))
        } else {
            (b.dim(br - 2), b.dim(br - 1))
        };
        if ka != kb {
            return Err(Error::shape(
                "matmul",
                a.shape(),
                b.shape(),
                format!("inner dimensions {ka} and {kb}"),
            ));
        }
        let a_batch = Shape::new(&a.dims()[..ar - 2]);
        let b_batch = Shape::new(&b.dims()[..br - 2]);
        let batch = Shape::broadcast("matmul", &a_batch, &b_batch).map_err(|_| {
            Error::shape(
                "matmul",
                a.shape(),
                b.shape(),
                "batch axes do not broadcast",
            )
        })?;
        let mut out_dims = batch.dims().to_vec();
        out_dims.extend([m, n]);

        // A batch of plain rows times one matrix is a single larger product.
        if b_batch.numel() == 1 && !trans_a {
            let a2 = a.reshape([1, a_batch.numel() * m, ka])?;
            let b2 = b.reshape([1, b.dim(br - 2), b.dim(br - 1)])?;
            return a2.matmul_3d(&b2, false, trans_b)?.reshape(out_dims);
        }
        let a3 = broadcast_batch(a, &batch)?;
        let b3 = broadcast_batch(b, &batch)?;
        a3.matmul_3d(&b3, trans_a, trans_b)?.reshape(out_dims)
    }
}

/// `t [..batch_t, r, c]` broadcast to `[..batch, r, c]` and viewed as `[B, r, c]`.
fn broadcast_batch(t: &Tensor, batch: &Shape) -> Result<Tensor> {
    let r = t.rank();
    let (rows, cols) = (t.dim(r - 2), t.dim(r - 1));
    let mut full = batch.dims().to_vec();
    full.extend([rows, cols]);
    t.broadcast_as(full)?.reshape([batch.numel(), rows, cols])
}
