//! Adam as `torch.optim.Adam` (the official optimizer), with its state exposed so
//! snapshots can store it and a resumed run continues bit for bit.

use tcgan_core::{no_grad, Result, Tensor};

/// Moments of one parameter.
#[derive(Clone)]
pub struct AdamState {
    pub exp_avg: Tensor,
    pub exp_avg_sq: Tensor,
}

pub struct Adam {
    pub lr: f64,
    pub betas: [f64; 2],
    pub eps: f64,
    /// Steps taken (shared by all parameters, as every step updates all of them).
    pub step: u64,
    params: Vec<Tensor>,
    state: Vec<Option<AdamState>>,
}

impl Adam {
    pub fn new(params: Vec<Tensor>, lr: f64, betas: [f64; 2], eps: f64) -> Self {
        let state = vec![None; params.len()];
        Adam {
            lr,
            betas,
            eps,
            step: 0,
            params,
            state,
        }
    }

    pub fn params(&self) -> &[Tensor] {
        &self.params
    }

    /// Clears the gradients of every parameter (`zero_grad(set_to_none=True)`).
    pub fn zero_grad(&self) {
        for p in &self.params {
            p.zero_grad();
        }
    }

    /// One update from the gradients accumulated in `.grad()`. Parameters
    /// without a gradient keep their value and moments, as in PyTorch.
    pub fn step(&mut self) -> Result<()> {
        no_grad(|| {
            self.step += 1;
            let t = self.step as i32;
            let [b1, b2] = self.betas;
            let bias_correction1 = 1.0 - b1.powi(t);
            let bias_correction2_sqrt = (1.0 - b2.powi(t)).sqrt();
            let step_size = self.lr / bias_correction1;
            for (p, state) in self.params.iter().zip(self.state.iter_mut()) {
                let Some(g) = p.grad() else { continue };
                let s = match state.take() {
                    Some(s) => s,
                    None => AdamState {
                        exp_avg: p.zeros_like()?,
                        exp_avg_sq: p.zeros_like()?,
                    },
                };
                // torch: m.lerp_(g, 1 - b1); v.mul_(b2).addcmul_(g, g, value=1 - b2)
                let exp_avg = s.exp_avg.lerp(&g, 1.0 - b1)?;
                let exp_avg_sq = s
                    .exp_avg_sq
                    .mul_scalar(b2)?
                    .add(&g.square()?.mul_scalar(1.0 - b2)?)?;
                // denom = sqrt(v) / sqrt(bc2) + eps;  p -= step_size * m / denom
                let denom = exp_avg_sq
                    .sqrt()?
                    .mul_scalar(1.0 / bias_correction2_sqrt)?
                    .add_scalar(self.eps)?;
                let update = exp_avg.div(&denom)?.mul_scalar(step_size)?;
                p.set_data(&p.sub(&update)?)?;
                *state = Some(AdamState {
                    exp_avg,
                    exp_avg_sq,
                });
            }
            Ok(())
        })
    }

    /// The moments of every parameter, `None` where no step has touched it yet.
    pub fn state(&self) -> &[Option<AdamState>] {
        &self.state
    }

    /// Restores moments saved from an optimizer over the same parameter list.
    pub fn set_state(&mut self, step: u64, state: Vec<Option<AdamState>>) -> Result<()> {
        if state.len() != self.params.len() {
            return Err(tcgan_core::Error::Autograd(format!(
                "optimizer state for {} parameters given to an optimizer of {}",
                state.len(),
                self.params.len()
            )));
        }
        for (p, s) in self.params.iter().zip(&state) {
            if let Some(s) = s {
                if s.exp_avg.shape() != p.shape() || s.exp_avg_sq.shape() != p.shape() {
                    return Err(tcgan_core::Error::shape(
                        "Adam::set_state",
                        p.shape(),
                        s.exp_avg.shape(),
                        "moment vs parameter",
                    ));
                }
            }
        }
        self.step = step;
        self.state = state;
        Ok(())
    }
}

/// Replaces NaN by 0 and +-inf by +-1e5 in every gradient, as the official loop
/// does before each optimizer step (`misc.nan_to_num`). Returns how many values
/// were not finite, so a caller can stop a run that keeps producing them.
pub fn sanitize_grads(params: &[Tensor]) -> Result<usize> {
    no_grad(|| {
        let mut bad = 0usize;
        for p in params {
            let Some(g) = p.grad() else { continue };
            // x != x is true only for NaN; |x| == inf for the infinities.
            let nan = g.ne_(&g)?;
            let inf = g.abs()?.eq_(&g.scalar_like(f64::INFINITY)?)?;
            let count = nan.add(&inf)?.sum_all()?.to_scalar()? as usize;
            if count == 0 {
                continue;
            }
            bad += count;
            let zero = g.scalar_like(0.0)?;
            let big = g.sign()?.mul_scalar(1e5)?;
            let fixed = Tensor::where_cond(&nan, &zero, &Tensor::where_cond(&inf, &big, &g)?)?;
            p.set_grad(Some(fixed));
        }
        Ok(bad)
    })
}
