//! `StyleGAN2Loss` with the authors' transition weighting: every logit pair
//! enters as `softplus(+-uncond) + D.transition * softplus(+-cond)`. The four
//! phases of the official `accumulate_gradients` (Gmain, Greg, Dmain, Dreg, and
//! the combined Gboth/Dboth): non-saturating logistic loss, path-length
//! regularization of G and R1 regularization of D, both differentiated twice
//! through the whole network. Gradients accumulate into the parameters' `.grad`.

use crate::module::Module;
use crate::networks::{Discriminator, Generator, NoiseSource, SynthesisOptions};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use tcgan_core::{backward, grad, no_grad, Tensor};

/// The constructor arguments of `StyleGAN2Loss` besides the networks (official
/// names and class defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LossKwargs {
    pub style_mixing_prob: f64,
    pub r1_gamma: f64,
    pub pl_batch_shrink: usize,
    pub pl_decay: f64,
    pub pl_weight: f64,
    /// Only `null` is accepted here: the augmentation is passed to
    /// `accumulate_gradients` as a function.
    pub augment_pipe: Option<serde_json::Value>,
}

impl Default for LossKwargs {
    fn default() -> Self {
        LossKwargs {
            style_mixing_prob: 0.9,
            r1_gamma: 10.0,
            pl_batch_shrink: 2,
            pl_decay: 0.01,
            pl_weight: 2.0,
            augment_pipe: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Gmain,
    Greg,
    Gboth,
    Dmain,
    Dreg,
    Dboth,
}

impl Phase {
    pub fn from_name(name: &str) -> Result<Phase> {
        Ok(match name {
            "Gmain" => Phase::Gmain,
            "Greg" => Phase::Greg,
            "Gboth" => Phase::Gboth,
            "Dmain" => Phase::Dmain,
            "Dreg" => Phase::Dreg,
            "Dboth" => Phase::Dboth,
            _ => return Err(Error::config("phase", format!("unknown phase {name:?}"))),
        })
    }

    /// True for the phases that train G.
    pub fn trains_g(self) -> bool {
        matches!(self, Phase::Gmain | Phase::Greg | Phase::Gboth)
    }
}

/// One minibatch of a phase: real images and labels, latents and labels for
/// generated images (labels are `None` without conditioning).
pub struct PhaseInputs<'a> {
    pub real_img: &'a Tensor,
    pub real_c: Option<&'a Tensor>,
    pub gen_z: &'a Tensor,
    pub gen_c: Option<&'a Tensor>,
}

/// An augmentation applied to every image before D (the ADA pipe).
pub type Augment<'a> = dyn Fn(&Tensor) -> Result<Tensor> + 'a;

/// Values reported by a phase, as `training_stats.report(name, value)`:
/// per-sample, detached, in report order.
pub type Stats = Vec<(String, Tensor)>;

#[derive(Debug)]
pub struct StyleGAN2Loss {
    pub kwargs: LossKwargs,
    /// Running mean of the path lengths (starts at 0).
    pub pl_mean: Tensor,
}

/// `(uncond [N], cond [N])` from logits `[N, 2]`, or `(uncond, None)` from `[N, 1]`.
fn split_logits(logits: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
    let uncond = logits.narrow(1, 0, 1)?.squeeze(1)?;
    if logits.dim(1) == 2 {
        Ok((uncond, Some(logits.narrow(1, 1, 1)?.squeeze(1)?)))
    } else {
        Ok((uncond, None))
    }
}

fn report(stats: &mut Stats, name: &str, t: &Tensor) {
    stats.push((name.to_string(), t.detach()));
}

impl StyleGAN2Loss {
    pub fn new(kwargs: LossKwargs, like: &Tensor) -> Result<Self> {
        if kwargs.augment_pipe.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(Error::config(
                "StyleGAN2Loss",
                "augment_pipe must be passed to accumulate_gradients as a function",
            ));
        }
        if kwargs.pl_batch_shrink == 0 {
            return Err(Error::config(
                "StyleGAN2Loss",
                "pl_batch_shrink must be >= 1",
            ));
        }
        Ok(StyleGAN2Loss {
            kwargs,
            pl_mean: Tensor::zeros([], like.dtype(), like.device())?,
        })
    }

    /// `(img, ws) = run_G(z, c)`, with style mixing.
    fn run_g(
        &self,
        g: &Generator,
        z: &Tensor,
        c: Option<&Tensor>,
        rng: &mut dyn NoiseSource,
    ) -> Result<(Tensor, Tensor)> {
        let mut ws = g.mapping.forward(Some(z), c, 1.0, None, false)?;
        if self.kwargs.style_mixing_prob > 0.0 {
            let num_ws = ws.dim(1) as i64;
            let drawn = rng.randint("style_mixing.cutoff", 1, num_ws)?;
            let u = rng.rand("style_mixing.prob")?;
            let cutoff = if u < self.kwargs.style_mixing_prob {
                drawn
            } else {
                num_ws
            } as usize;
            let z2 = rng.randn("style_mixing.z", z.dims(), z)?;
            let ws2 = g.mapping.forward(Some(&z2), c, 1.0, None, true)?;
            if cutoff < ws.dim(1) {
                let head = ws.narrow(1, 0, cutoff)?;
                let tail = ws2.narrow(1, cutoff, ws.dim(1) - cutoff)?;
                ws = Tensor::concat(&[&head, &tail], 1)?;
            }
        }
        let img = g
            .synthesis
            .forward(&ws, &SynthesisOptions::default(), rng)?;
        Ok((img, ws))
    }

    fn run_d(
        &self,
        d: &Discriminator,
        img: &Tensor,
        c: Option<&Tensor>,
        augment: Option<&Augment>,
    ) -> Result<Tensor> {
        match augment {
            Some(a) => d.forward(&a(img)?, c),
            None => d.forward(img, c),
        }
    }

    /// `softplus(sign * uncond) + transition * softplus(sign * cond)` per sample,
    /// reporting scores and signs under `Loss/scores/<what>` etc.
    fn logistic(
        &self,
        logits: &Tensor,
        sign: f64,
        transition: f64,
        what: &str,
        stats: &mut Stats,
    ) -> Result<Tensor> {
        let (uncond, cond) = split_logits(logits)?;
        report(stats, &format!("Loss/scores/{what}"), &uncond);
        report(stats, &format!("Loss/signs/{what}"), &uncond.sign()?);
        let mut loss = uncond.mul_scalar(sign)?.softplus()?;
        if let Some(cond) = cond {
            report(stats, &format!("Loss/scores/{what}_c"), &cond);
            report(stats, &format!("Loss/signs/{what}_c"), &cond.sign()?);
            let lc = cond.mul_scalar(sign)?.softplus()?;
            loss = loss.add(&lc.mul_scalar(transition)?)?;
        }
        Ok(loss)
    }

    /// One phase of the official `accumulate_gradients`, adding `gain`-weighted
    /// gradients into the `.grad` of the trained network's parameters. G phases
    /// switch `requires_grad` on for G and off for D, D phases the reverse (as
    /// the official training loop does around this call). Random draws (synthesis
    /// noise, path-length noise, style mixing) come from `rng`.
    #[allow(clippy::too_many_arguments)]
    pub fn accumulate_gradients(
        &mut self,
        phase: Phase,
        g: &Generator,
        d: &Discriminator,
        inputs: &PhaseInputs,
        gain: f64,
        augment: Option<&Augment>,
        rng: &mut dyn NoiseSource,
    ) -> Result<Stats> {
        let k = self.kwargs.clone();
        let do_gmain = matches!(phase, Phase::Gmain | Phase::Gboth);
        let do_dmain = matches!(phase, Phase::Dmain | Phase::Dboth);
        let do_gpl = matches!(phase, Phase::Greg | Phase::Gboth) && k.pl_weight != 0.0;
        let do_dr1 = matches!(phase, Phase::Dreg | Phase::Dboth) && k.r1_gamma != 0.0;
        g.set_requires_grad(phase.trains_g())?;
        d.set_requires_grad(!phase.trains_g())?;
        let transition = d.transition_value()?;
        let mut stats = Stats::new();
        let PhaseInputs {
            real_img,
            real_c,
            gen_z,
            gen_c,
        } = *inputs;

        // Gmain: maximise the logits of generated images.
        if do_gmain {
            let (gen_img, _) = self.run_g(g, gen_z, gen_c, rng)?;
            let logits = self.run_d(d, &gen_img, gen_c, augment)?;
            let loss = self.logistic(&logits, -1.0, transition, "fake", &mut stats)?;
            report(&mut stats, "Loss/G/loss", &loss);
            backward(&loss.mean_all()?.mul_scalar(gain)?, None, false)?;
        }

        // Gpl: path-length regularization.
        if do_gpl {
            let n = gen_z.dim(0) / k.pl_batch_shrink;
            let z = gen_z.narrow(0, 0, n)?;
            let c = gen_c.map(|c| c.narrow(0, 0, n)).transpose()?;
            let (gen_img, gen_ws) = self.run_g(g, &z, c.as_ref(), rng)?;
            let (h, w) = (gen_img.dim(2), gen_img.dim(3));
            let pl_noise = rng
                .randn("pl_noise", gen_img.dims(), &gen_img)?
                .mul_scalar(1.0 / ((h * w) as f64).sqrt())?;
            let out = gen_img.mul(&pl_noise)?.sum_all()?;
            let pl_grads = grad(&[&out], &[], &[&gen_ws], true)?.remove(0);
            let pl_lengths = pl_grads.square()?.sum(&[2])?.mean(&[1])?.sqrt()?;
            // Not detached: the penalty also differentiates through the new mean.
            let pl_mean = self.pl_mean.lerp(&pl_lengths.mean_all()?, k.pl_decay)?;
            self.pl_mean = pl_mean.detach();
            let pl_penalty = pl_lengths.sub(&pl_mean)?.square()?;
            report(&mut stats, "Loss/pl_penalty", &pl_penalty);
            let loss_gpl = pl_penalty.mul_scalar(k.pl_weight)?;
            report(&mut stats, "Loss/G/reg", &loss_gpl);
            backward(&loss_gpl.mean_all()?.mul_scalar(gain)?, None, false)?;
        }

        // Dmain: minimise the logits of generated images.
        let mut loss_dgen = None;
        if do_dmain {
            let (gen_img, _) = no_grad(|| self.run_g(g, gen_z, gen_c, rng))?;
            let logits = self.run_d(d, &gen_img, gen_c, augment)?;
            let loss = self.logistic(&logits, 1.0, transition, "fake", &mut stats)?;
            backward(&loss.mean_all()?.mul_scalar(gain)?, None, false)?;
            loss_dgen = Some(loss.detach());
        }

        // Dmain: maximise the logits of real images; Dr1: R1 regularization.
        if do_dmain || do_dr1 {
            let real = real_img.detach().requires_grad_(do_dr1)?;
            let logits = self.run_d(d, &real, real_c, augment)?;
            let (uncond, cond) = split_logits(&logits)?;
            report(&mut stats, "Loss/scores/real", &uncond);
            report(&mut stats, "Loss/signs/real", &uncond.sign()?);
            let mut total = None;
            if do_dmain {
                let mut loss = uncond.neg()?.softplus()?;
                if let Some(cond) = &cond {
                    report(&mut stats, "Loss/scores/real_c", cond);
                    report(&mut stats, "Loss/signs/real_c", &cond.sign()?);
                    let lc = cond.neg()?.softplus()?;
                    loss = loss.add(&lc.mul_scalar(transition)?)?;
                }
                let dgen = loss_dgen.as_ref().expect("computed above in Dmain");
                report(&mut stats, "Loss/D/loss", &dgen.add(&loss.detach())?);
                total = Some(loss);
            }
            if do_dr1 {
                let r1_grads = grad(&[&uncond.sum_all()?], &[], &[&real], true)?.remove(0);
                let r1_penalty = r1_grads.square()?.sum(&[1, 2, 3])?;
                let loss_dr1 = r1_penalty.mul_scalar(k.r1_gamma / 2.0)?;
                report(&mut stats, "Loss/r1_penalty", &r1_penalty);
                report(&mut stats, "Loss/D/reg", &loss_dr1);
                total = Some(match total {
                    Some(t) => t.add(&loss_dr1)?,
                    None => loss_dr1,
                });
            }
            let total = total.expect("Dmain or Dr1");
            if total.requires_grad() {
                backward(&total.mean_all()?.mul_scalar(gain)?, None, false)?;
            }
        }
        Ok(stats)
    }
}
