//! Operations built from primitives; their gradients come from the primitives'.

use crate::{Device, Result, Tensor};

impl Tensor {
    /// `self + (end - self) * weight` (`torch.lerp`), with a scalar weight.
    pub fn lerp(&self, end: &Tensor, weight: f64) -> Result<Tensor> {
        self.add(&end.sub(self)?.mul_scalar(weight)?)
    }

    /// `self + (end - self) * weight` with a tensor weight (broadcasting).
    pub fn lerp_tensor(&self, end: &Tensor, weight: &Tensor) -> Result<Tensor> {
        self.add(&end.sub(self)?.mul(weight)?)
    }

    /// Copies the value to another device (leaves the graph: use before training).
    pub fn to_device(&self, device: &Device) -> Result<Tensor> {
        if device.same(self.device()) {
            return Ok(self.clone());
        }
        let host = self.to_host()?;
        Tensor::from_host(host, self.shape().clone(), device)
    }

    /// The 2-norm of all elements, as a scalar tensor.
    pub fn norm(&self) -> Result<Tensor> {
        self.square()?.sum_all()?.sqrt()
    }
}
