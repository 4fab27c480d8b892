//! Drawing the per-sample parameters of the pipe on the host: the official
//! distributions, the gating by `multiplier * p`, `debug_percentile`, and the
//! matrices and gains the stages then execute.

use super::kwargs::AugmentKwargs;
use super::matrices::{
    add_scaled4, identity, luma_axis, matmul, outer4, rotate2d_inv, rotate2d_quarters, rotate3d,
    scale2d_inv, scale3d, translate2d_inv, translate3d, Mat3, Mat4,
};
use super::special::erfinv;
use std::f64::consts::PI;
use tcgan_core::Generator;

/// Expected power spectrum (1/f) of the four image-filter bands.
pub const EXPECTED_POWER: [f64; 4] = [10.0 / 13.0, 1.0 / 13.0, 1.0 / 13.0, 1.0 / 13.0];

/// One augmentation's per-sample values (the identity value where it was not
/// drawn) and whether each sample drew it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Drawn<T> {
    pub value: Vec<T>,
    pub applied: Vec<bool>,
}

/// What was drawn for each enabled augmentation (`None` when disabled); a
/// record for statistics and logging: the stages read `AugmentParams`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Draws {
    /// 0 or 1.
    pub xflip: Option<Drawn<f64>>,
    /// Quarter turns 0..=3.
    pub rotate90: Option<Drawn<f64>>,
    /// Integer translation in pixels `[tx, ty]`.
    pub xint: Option<Drawn<[f64; 2]>>,
    pub scale: Option<Drawn<f64>>,
    /// Rotation angles (radians) before and after anisotropic scaling.
    pub rotate_pre: Option<Drawn<f64>>,
    pub aniso: Option<Drawn<f64>>,
    pub rotate_post: Option<Drawn<f64>>,
    /// Fractional translation relative to the image size `[tx, ty]`.
    pub xfrac: Option<Drawn<[f64; 2]>>,
    pub brightness: Option<Drawn<f64>>,
    pub contrast: Option<Drawn<f64>>,
    /// 0 or 1.
    pub lumaflip: Option<Drawn<f64>>,
    pub hue: Option<Drawn<f64>>,
    pub saturation: Option<Drawn<f64>>,
    /// Amplification of each frequency band.
    pub imgfilter: Option<[Drawn<f64>; 4]>,
    /// Standard deviation of the additive noise.
    pub noise: Option<Drawn<f64>>,
    /// Side of the cutout square relative to the image (0 = none).
    pub cutout: Option<Drawn<f64>>,
}

/// The additive noise of one call: per-sample strengths and the generator
/// state the `[N, C, H, W]` standard normal field is drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseParams {
    pub sigma: Vec<f64>,
    pub field: Generator,
}

/// The cutout of one call: per-sample square size (relative, 0 = none) and
/// centre `[x, y]` (relative, in [0, 1)).
#[derive(Debug, Clone, PartialEq)]
pub struct CutoutParams {
    pub size: Vec<f64>,
    pub center: Vec<[f64; 2]>,
}

/// Everything one call of the pipe executes, for a batch of `shape`
/// `[N, C, H, W]`. A stage is skipped when its entry is `None`, as the
/// official pipe skips a stage whose augmentations are all disabled.
#[derive(Debug, Clone, PartialEq)]
pub struct AugmentParams {
    pub shape: [usize; 4],
    /// Inverse geometric transforms in pixel units (output pixel -> input
    /// pixel, origin at the image centre), one per sample.
    pub g_inv: Option<Vec<Mat3>>,
    /// Colour transforms `C @ [r, g, b, 1]`, one per sample.
    pub color: Option<Vec<Mat4>>,
    /// Per-sample gains of the four image-filter bands.
    pub filter_gain: Option<Vec<[f64; 4]>>,
    pub noise: Option<NoiseParams>,
    pub cutout: Option<CutoutParams>,
    pub draws: Draws,
}

impl AugmentParams {
    /// Given matrices (e.g. recorded from another run) and no other stages.
    pub fn from_matrices(
        shape: [usize; 4],
        g_inv: Option<Vec<Mat3>>,
        color: Option<Vec<Mat4>>,
    ) -> Self {
        AugmentParams {
            shape,
            g_inv,
            color,
            filter_gain: None,
            noise: None,
            cutout: None,
            draws: Draws::default(),
        }
    }
}

/// Per-sample draws from `rng`, with the gate `u < prob` and the
/// `debug_percentile` override.
struct Sampler<'a> {
    rng: &'a mut Generator,
    n: usize,
    debug: Option<f64>,
}

impl Sampler<'_> {
    fn rand(&mut self) -> Vec<f64> {
        self.rng.uniform_vec(self.n, 0.0, 1.0)
    }

    fn randn(&mut self) -> Vec<f64> {
        self.rng.normal_vec(self.n)
    }

    /// `value[i]` where sample `i` passes the gate, `identity` elsewhere;
    /// under `debug_percentile` every sample takes `debug(percentile)`.
    fn gated<T: Copy>(
        &mut self,
        value: Vec<T>,
        prob: f64,
        identity: T,
        debug: impl Fn(f64) -> T,
    ) -> Drawn<T> {
        let gate = self.rand();
        if let Some(q) = self.debug {
            return Drawn {
                value: vec![debug(q); self.n],
                applied: vec![true; self.n],
            };
        }
        let applied: Vec<bool> = gate.iter().map(|&u| u < prob).collect();
        let value = value
            .into_iter()
            .zip(&applied)
            .map(|(v, &a)| if a { v } else { identity })
            .collect();
        Drawn { value, applied }
    }

    fn pairs(&mut self, f: impl Fn(f64) -> f64) -> Vec<[f64; 2]> {
        let v = self.rng.uniform_vec(2 * self.n, 0.0, 1.0);
        v.chunks_exact(2).map(|c| [f(c[0]), f(c[1])]).collect()
    }

    fn normal_pairs(&mut self, std: f64) -> Vec<[f64; 2]> {
        let v = self.rng.normal_vec(2 * self.n);
        v.chunks_exact(2)
            .map(|c| [c[0] * std, c[1] * std])
            .collect()
    }
}

/// Draws the parameters of one call for images of `shape` `[N, C, H, W]` at
/// augmentation probability `p`, in the order of the official pipe.
pub fn draw(
    kw: &AugmentKwargs,
    p: f64,
    shape: [usize; 4],
    rng: &mut Generator,
    debug_percentile: Option<f64>,
) -> AugmentParams {
    let [n, c, h, w] = shape;
    let (wf, hf) = (w as f64, h as f64);
    let mut s = Sampler {
        rng,
        n,
        debug: debug_percentile,
    };
    let mut d = Draws::default();
    // ---- Pixel blitting and general geometric transformations.
    let mut g_inv: Vec<Mat3> = vec![identity(); n];
    let then = |g_inv: &mut Vec<Mat3>, m: &dyn Fn(usize) -> Mat3| {
        for (i, g) in g_inv.iter_mut().enumerate() {
            *g = matmul(g, &m(i));
        }
    };
    if kw.xflip > 0.0 {
        let v = s.rand().into_iter().map(|u| (u * 2.0).floor()).collect();
        let x = s.gated(v, kw.xflip * p, 0.0, |q| (q * 2.0).floor());
        then(&mut g_inv, &|i| scale2d_inv(1.0 - 2.0 * x.value[i], 1.0));
        d.xflip = Some(x);
    }
    if kw.rotate90 > 0.0 {
        let v = s.rand().into_iter().map(|u| (u * 4.0).floor()).collect();
        let r = s.gated(v, kw.rotate90 * p, 0.0, |q| (q * 4.0).floor());
        // rotate2d_inv(-pi/2 * i) = rotate2d(pi/2 * i)
        then(&mut g_inv, &|i| rotate2d_quarters(r.value[i] as i64));
        d.rotate90 = Some(r);
    }
    if kw.xint > 0.0 {
        let m = kw.xint_max;
        let v = s.pairs(|u| (u * 2.0 - 1.0) * m);
        let t = s.gated(v, kw.xint * p, [0.0; 2], |q| [(q * 2.0 - 1.0) * m; 2]);
        // Whole pixels; torch.round rounds halves to even.
        let px: Vec<[f64; 2]> = t
            .value
            .iter()
            .map(|t| [(t[0] * wf).round_ties_even(), (t[1] * hf).round_ties_even()])
            .collect();
        then(&mut g_inv, &|i| translate2d_inv(px[i][0], px[i][1]));
        d.xint = Some(Drawn {
            value: px,
            applied: t.applied,
        });
    }
    let log2_normal = |s: &mut Sampler, std: f64| -> Vec<f64> {
        s.randn().into_iter().map(|z| (z * std).exp2()).collect()
    };
    let log2_debug = |std: f64| move |q: f64| (erfinv(q * 2.0 - 1.0) * std).exp2();
    if kw.scale > 0.0 {
        let v = log2_normal(&mut s, kw.scale_std);
        let sc = s.gated(v, kw.scale * p, 1.0, log2_debug(kw.scale_std));
        then(&mut g_inv, &|i| scale2d_inv(sc.value[i], sc.value[i]));
        d.scale = Some(sc);
    }
    // P(pre OR post) = rotate * p.
    let p_rot = 1.0 - (1.0 - kw.rotate * p).clamp(0.0, 1.0).sqrt();
    let angle = |s: &mut Sampler, max: f64| -> Vec<f64> {
        s.rand()
            .into_iter()
            .map(|u| (u * 2.0 - 1.0) * PI * max)
            .collect()
    };
    if kw.rotate > 0.0 {
        let m = kw.rotate_max;
        let v = angle(&mut s, m);
        let th = s.gated(v, p_rot, 0.0, |q| (q * 2.0 - 1.0) * PI * m);
        then(&mut g_inv, &|i| rotate2d_inv(-th.value[i]));
        d.rotate_pre = Some(th);
    }
    if kw.aniso > 0.0 {
        let v = log2_normal(&mut s, kw.aniso_std);
        let a = s.gated(v, kw.aniso * p, 1.0, log2_debug(kw.aniso_std));
        then(&mut g_inv, &|i| scale2d_inv(a.value[i], 1.0 / a.value[i]));
        d.aniso = Some(a);
    }
    if kw.rotate > 0.0 {
        let v = angle(&mut s, kw.rotate_max);
        let th = s.gated(v, p_rot, 0.0, |_| 0.0);
        then(&mut g_inv, &|i| rotate2d_inv(-th.value[i]));
        d.rotate_post = Some(th);
    }
    if kw.xfrac > 0.0 {
        let std = kw.xfrac_std;
        let v = s.normal_pairs(std);
        let t = s.gated(v, kw.xfrac * p, [0.0; 2], |q| {
            [erfinv(q * 2.0 - 1.0) * std; 2]
        });
        then(&mut g_inv, &|i| {
            translate2d_inv(t.value[i][0] * wf, t.value[i][1] * hf)
        });
        d.xfrac = Some(t);
    }
    let g_inv = kw.any_geometric().then_some(g_inv);

    // ---- Colour transformations: C @ colour_in = colour_out.
    let mut color: Vec<Mat4> = vec![identity(); n];
    let before = |color: &mut Vec<Mat4>, m: &dyn Fn(usize) -> Mat4| {
        for (i, cm) in color.iter_mut().enumerate() {
            *cm = matmul(&m(i), cm);
        }
    };
    if kw.brightness > 0.0 {
        let std = kw.brightness_std;
        let v = s.randn().into_iter().map(|z| z * std).collect();
        let b = s.gated(v, kw.brightness * p, 0.0, |q| erfinv(q * 2.0 - 1.0) * std);
        before(&mut color, &|i| {
            translate3d(b.value[i], b.value[i], b.value[i])
        });
        d.brightness = Some(b);
    }
    if kw.contrast > 0.0 {
        let v = log2_normal(&mut s, kw.contrast_std);
        let k = s.gated(v, kw.contrast * p, 1.0, log2_debug(kw.contrast_std));
        before(&mut color, &|i| scale3d(k.value[i], k.value[i], k.value[i]));
        d.contrast = Some(k);
    }
    let v = luma_axis();
    let vv = outer4(v);
    if kw.lumaflip > 0.0 {
        let f = s.rand().into_iter().map(|u| (u * 2.0).floor()).collect();
        let l = s.gated(f, kw.lumaflip * p, 0.0, |q| (q * 2.0).floor());
        // Householder reflection about the luma axis.
        before(&mut color, &|i| {
            add_scaled4(&identity(), &vv, -2.0 * l.value[i])
        });
        d.lumaflip = Some(l);
    }
    if kw.hue > 0.0 && c > 1 {
        let m = kw.hue_max;
        let th = angle(&mut s, m);
        let hue = s.gated(th, kw.hue * p, 0.0, |q| (q * 2.0 - 1.0) * PI * m);
        before(&mut color, &|i| rotate3d([v[0], v[1], v[2]], hue.value[i]));
        d.hue = Some(hue);
    }
    if kw.saturation > 0.0 && c > 1 {
        let std = kw.saturation_std;
        let sv = log2_normal(&mut s, std);
        let sat = s.gated(sv, kw.saturation * p, 1.0, log2_debug(std));
        // vv^T + (I - vv^T) * s; the official code scales C[3, 3] too, unused.
        let i_minus_vv = add_scaled4(&identity(), &vv, -1.0);
        before(&mut color, &|i| add_scaled4(&vv, &i_minus_vv, sat.value[i]));
        d.saturation = Some(sat);
    }
    let color = kw.any_color(c).then_some(color);

    // ---- Image-space filtering: a gain per frequency band.
    let filter_gain = (kw.imgfilter > 0.0).then(|| {
        let mut g = vec![[1.0; 4]; n];
        let bands: [Drawn<f64>; 4] = std::array::from_fn(|band| {
            let strength = kw.imgfilter_bands[band];
            let std = kw.imgfilter_std;
            let v = log2_normal(&mut s, std);
            let t = s.gated(v, kw.imgfilter * p * strength, 1.0, |q| {
                if strength > 0.0 {
                    (erfinv(q * 2.0 - 1.0) * std).exp2()
                } else {
                    1.0
                }
            });
            for (gi, &ti) in g.iter_mut().zip(&t.value) {
                let mut tv = [1.0; 4];
                tv[band] = ti;
                // Normalise the power of the temporary gain vector.
                let power: f64 = tv.iter().zip(EXPECTED_POWER).map(|(t, e)| e * t * t).sum();
                let norm = power.sqrt();
                for (gk, tk) in gi.iter_mut().zip(tv) {
                    *gk *= tk / norm;
                }
            }
            t
        });
        d.imgfilter = Some(bands);
        g
    });

    // ---- Image-space corruptions.
    let noise = (kw.noise > 0.0).then(|| {
        let std = kw.noise_std;
        let v = s.randn().into_iter().map(|z| z.abs() * std).collect();
        let sigma = s.gated(v, kw.noise * p, 0.0, |q| erfinv(q) * std);
        // The field is drawn when executed; skip its values in the stream.
        let (seed, offset) = s.rng.state();
        let field = Generator::from_state(seed, offset);
        *s.rng = Generator::from_state(seed, offset.wrapping_add((n * c * h * w) as u64));
        let out = NoiseParams {
            sigma: sigma.value.clone(),
            field,
        };
        d.noise = Some(sigma);
        out
    });
    let cutout = (kw.cutout > 0.0).then(|| {
        let sz = vec![kw.cutout_size; n];
        let size = s.gated(sz, kw.cutout * p, 0.0, |_| kw.cutout_size);
        let mut center = s.pairs(|u| u);
        if let Some(q) = debug_percentile {
            center = vec![[q, q]; n];
        }
        let out = CutoutParams {
            size: size.value.clone(),
            center,
        };
        d.cutout = Some(size);
        out
    });
    AugmentParams {
        shape,
        g_inv,
        color,
        filter_gain,
        noise,
        cutout,
        draws: d,
    }
}
