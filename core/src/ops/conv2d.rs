//! 2-D convolution, its transpose and its weight gradient: three primitives whose
//! gradient rules are written with each other (the `conv2d_gradfix` pattern), so
//! any order of derivative stays on the fast kernels.

use crate::autograd::GradFn;
use crate::backend::{Conv2dSpec, ConvTranspose2dSpec};
use crate::{Error, Result, Shape, Tensor};
use std::sync::Arc;

enum Kind {
    /// inputs: [x, w]
    Conv(Conv2dSpec),
    /// inputs: [x, w]
    Transpose(ConvTranspose2dSpec),
    /// inputs: [x, dy]; output has the weight's shape.
    WeightGrad(Conv2dSpec),
}

struct ConvGrad {
    kind: Kind,
    inputs: [Tensor; 2],
}

impl GradFn for ConvGrad {
    fn name(&self) -> &'static str {
        match self.kind {
            Kind::Conv(_) => "conv2d",
            Kind::Transpose(_) => "conv_transpose2d",
            Kind::WeightGrad(_) => "conv2d_weight_grad",
        }
    }
    fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }
    fn backward(&self, _y: &Tensor, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let [a, b] = &self.inputs;
        match &self.kind {
            Kind::Conv(spec) => {
                let dx = needs[0]
                    .then(|| conv2d_input_grad(g, b, a.shape(), spec))
                    .transpose()?;
                let dw = needs[1]
                    .then(|| a.conv2d_weight_grad(g, b.shape(), spec))
                    .transpose()?;
                Ok(vec![dx, dw])
            }
            Kind::Transpose(spec) => {
                let fwd = spec.forward();
                let dx = needs[0].then(|| g.conv2d_spec(b, &fwd)).transpose()?;
                let dw = needs[1]
                    .then(|| g.conv2d_weight_grad(a, b.shape(), &fwd))
                    .transpose()?;
                Ok(vec![dx, dw])
            }
            Kind::WeightGrad(spec) => {
                // dw(x, dy) is bilinear: <dw, G> = <conv2d(x, G), dy>.
                let dx = needs[0]
                    .then(|| conv2d_input_grad(b, g, a.shape(), spec))
                    .transpose()?;
                let ddy = needs[1].then(|| a.conv2d_spec(g, spec)).transpose()?;
                Ok(vec![dx, ddy])
            }
        }
    }
}

/// The gradient of `conv2d(x, w)` with respect to an `x` of `x_shape`.
fn conv2d_input_grad(
    dy: &Tensor,
    w: &Tensor,
    x_shape: &Shape,
    spec: &Conv2dSpec,
) -> Result<Tensor> {
    let (hx, wx) = (x_shape.dim(2), x_shape.dim(3));
    let (kh, kw) = (w.dim(2), w.dim(3));
    let full = |x: usize, k: usize, o: usize, i: usize| -> usize {
        (x + 2 * spec.padding[i]).saturating_sub(k + (o - 1) * spec.stride[i])
    };
    let spec_t = ConvTranspose2dSpec {
        stride: spec.stride,
        padding: spec.padding,
        output_padding: [full(hx, kh, dy.dim(2), 0), full(wx, kw, dy.dim(3), 1)],
        groups: spec.groups,
    };
    dy.conv_transpose2d_spec(w, &spec_t)
}

fn check_conv(
    op: &'static str,
    x: &Tensor,
    w: &Tensor,
    groups: usize,
    w_in_is_dim1: bool,
) -> Result<()> {
    x.check_same(op, w)?;
    if x.rank() != 4 || w.rank() != 4 {
        return Err(Error::shape(
            op,
            x.shape(),
            w.shape(),
            "input and weight must be 4-D (NCHW, OIHW)",
        ));
    }
    if groups == 0 {
        return Err(Error::invalid(op, x.shape(), "groups must be >= 1"));
    }
    let c = x.dim(1);
    let ok = if w_in_is_dim1 {
        // conv2d: w [O, C/g, kh, kw]
        c % groups == 0 && w.dim(1) * groups == c && w.dim(0) % groups == 0
    } else {
        // conv_transpose2d: w [Cin, Cout/g, kh, kw]
        c % groups == 0 && w.dim(0) == c
    };
    if !ok {
        return Err(Error::shape(
            op,
            x.shape(),
            w.shape(),
            format!("channel counts do not match with groups={groups}"),
        ));
    }
    Ok(())
}

impl Tensor {
    /// `torch.nn.functional.conv2d(x, w, stride, padding, groups=groups)`, no bias.
    pub fn conv2d(
        &self,
        w: &Tensor,
        stride: usize,
        padding: usize,
        groups: usize,
    ) -> Result<Tensor> {
        self.conv2d_spec(
            w,
            &Conv2dSpec {
                stride: [stride; 2],
                padding: [padding; 2],
                groups,
            },
        )
    }

    pub fn conv2d_spec(&self, w: &Tensor, spec: &Conv2dSpec) -> Result<Tensor> {
        check_conv("conv2d", self, w, spec.groups, true)?;
        let [ho, wo] = spec
            .output_hw([self.dim(2), self.dim(3)], [w.dim(2), w.dim(3)])
            .ok_or_else(|| {
                Error::shape(
                    "conv2d",
                    self.shape(),
                    w.shape(),
                    format!("kernel larger than padded input ({spec:?})"),
                )
            })?;
        let out = Shape::new([self.dim(0), w.dim(0), ho, wo]);
        let storage = self.device().backend().conv2d(
            (&self.storage(), self.shape()),
            (&w.storage(), w.shape()),
            spec,
        )?;
        let spec = *spec;
        Ok(Tensor::from_op(
            storage,
            out,
            self.device(),
            &[self, w],
            || {
                Arc::new(ConvGrad {
                    kind: Kind::Conv(spec),
                    inputs: [self.clone(), w.clone()],
                })
            },
        ))
    }

    /// `torch.nn.functional.conv_transpose2d(x, w, stride, padding, output_padding, groups)`.
    pub fn conv_transpose2d(
        &self,
        w: &Tensor,
        stride: usize,
        padding: usize,
        output_padding: usize,
        groups: usize,
    ) -> Result<Tensor> {
        self.conv_transpose2d_spec(
            w,
            &ConvTranspose2dSpec {
                stride: [stride; 2],
                padding: [padding; 2],
                output_padding: [output_padding; 2],
                groups,
            },
        )
    }

    pub fn conv_transpose2d_spec(&self, w: &Tensor, spec: &ConvTranspose2dSpec) -> Result<Tensor> {
        check_conv("conv_transpose2d", self, w, spec.groups, false)?;
        // As PyTorch: output padding only picks among the input sizes that a
        // strided forward convolution maps to one output size.
        if (0..2).any(|i| spec.output_padding[i] >= spec.stride[i]) {
            return Err(Error::shape(
                "conv_transpose2d",
                self.shape(),
                w.shape(),
                format!("output_padding must be smaller than stride ({spec:?})"),
            ));
        }
        let [ho, wo] = spec
            .output_hw([self.dim(2), self.dim(3)], [w.dim(2), w.dim(3)])
            .ok_or_else(|| {
                Error::shape(
                    "conv_transpose2d",
                    self.shape(),
                    w.shape(),
                    format!("padding removes the whole output ({spec:?})"),
                )
            })?;
        let out = Shape::new([self.dim(0), w.dim(1) * spec.groups, ho, wo]);
        let storage = self.device().backend().conv_transpose2d(
            (&self.storage(), self.shape()),
            (&w.storage(), w.shape()),
            spec,
        )?;
        let spec = *spec;
        Ok(Tensor::from_op(
            storage,
            out,
            self.device(),
            &[self, w],
            || {
                Arc::new(ConvGrad {
                    kind: Kind::Transpose(spec),
                    inputs: [self.clone(), w.clone()],
                })
            },
        ))
    }

    /// The gradient of `conv2d(self, w)` with respect to `w` (of `w_shape`), given
    /// the output gradient `dy`.
    pub fn conv2d_weight_grad(
        &self,
        dy: &Tensor,
        w_shape: &Shape,
        spec: &Conv2dSpec,
    ) -> Result<Tensor> {
        self.check_same("conv2d_weight_grad", dy)?;
        let expected = spec.output_hw([self.dim(2), self.dim(3)], [w_shape.dim(2), w_shape.dim(3)]);
        if self.rank() != 4
            || dy.rank() != 4
            || w_shape.rank() != 4
            || expected != Some([dy.dim(2), dy.dim(3)])
            || dy.dim(0) != self.dim(0)
            || dy.dim(1) != w_shape.dim(0)
            || w_shape.dim(1) * spec.groups != self.dim(1)
        {
            return Err(Error::shape(
                "conv2d_weight_grad",
                self.shape(),
                dy.shape(),
                format!("for weight {w_shape} and {spec:?}"),
            ));
        }
        let storage = self.device().backend().conv2d_weight_grad(
            (&self.storage(), self.shape()),
            (&dy.storage(), dy.shape()),
            w_shape,
            spec,
        )?;
        let spec = *spec;
        Ok(Tensor::from_op(
            storage,
            w_shape.clone(),
            self.device(),
            &[self, dy],
            || {
                Arc::new(ConvGrad {
                    kind: Kind::WeightGrad(spec),
                    inputs: [self.clone(), dy.clone()],
                })
            },
        ))
    }
}
