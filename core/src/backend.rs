//! The list of primitives every backend implements, and `Device`, the run-time
//! handle that picks a backend without making callers generic.
//!
//! Every argument a kernel needs is explicit: storages are contiguous row-major
//! buffers and their shapes travel beside them. The core validates shapes before
//! calling in, so a backend may assume consistent arguments.

use crate::F16ViaF32;
use crate::{DType, HostBuffer, Result, Shape, Storage};
use std::fmt::{self, Debug};
use std::sync::Arc;

/// Elementwise functions of one tensor. Parameters are stored as f64 and rounded
/// to the storage dtype by the kernel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnaryOp {
    Neg,
    Exp,
    Log,
    Sqrt,
    Rsqrt,
    Recip,
    Abs,
    /// -1, 0 or 1.
    Sign,
    Square,
    Tanh,
    Sigmoid,
    /// log(1 + exp(x)), computed without overflow.
    Softplus,
    Relu,
    /// 1 where x > 0, else 0: the derivative of relu.
    Step,
    /// x where x > 0, else alpha * x.
    LeakyRelu(f64),
    /// 1 where x > 0, else alpha: the derivative of leaky relu.
    LeakyStep(f64),
    /// x where x > 0, else exp(x) - 1.
    Elu,
    /// scale * (x where x > 0, else alpha * (exp(x) - 1)), with the SELU constants.
    Selu,
    /// x * sigmoid(x).
    Swish,
    /// x ^ p for a constant p.
    PowScalar(f64),
    /// x * mul + add.
    Affine {
        mul: f64,
        add: f64,
    },
    /// min(max(x, lo), hi).
    Clamp {
        lo: f64,
        hi: f64,
    },
    /// 1 where lo <= x <= hi, else 0: the derivative of clamp (PyTorch's rule).
    InRange {
        lo: f64,
        hi: f64,
    },
}

/// SELU constants (Klambauer et al.), the values PyTorch uses.
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
pub const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

/// Elementwise functions of two tensors, with broadcasting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Maximum,
    Minimum,
    Pow,
    /// Comparisons give 1.0 or 0.0.
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Max,
    Min,
}

/// A (batched) matrix product `C[b] = op(A[b]) * op(B[b])` with `op` an optional
/// transpose. `A` is `[batch, m, k]` (or `[batch, k, m]` when `trans_a`), `B` is
/// `[batch, k, n]` (or `[batch, n, k]`), `C` is `[batch, m, n]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatmulSpec {
    pub batch: usize,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub trans_a: bool,
    pub trans_b: bool,
}

/// Cross-correlation as `torch.nn.functional.conv2d`: `x [N, C, H, W]`,
/// `w [O, C / groups, kh, kw]`, symmetric zero padding, no bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dSpec {
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub groups: usize,
}

impl Conv2dSpec {
    /// Output spatial size for an input of `[h, w]` and a kernel of `[kh, kw]`.
    pub fn output_hw(&self, hw: [usize; 2], k: [usize; 2]) -> Option<[usize; 2]> {
        let mut out = [0; 2];
        for i in 0..2 {
            let padded = hw[i] + 2 * self.padding[i];
            if padded < k[i] || self.stride[i] == 0 {
                return None;
            }
            out[i] = (padded - k[i]) / self.stride[i] + 1;
        }
        Some(out)
    }
}

/// The adjoint of `conv2d` as `torch.nn.functional.conv_transpose2d`:
/// `x [N, Cin, H, W]`, `w [Cin, Cout / groups, kh, kw]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvTranspose2dSpec {
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub output_padding: [usize; 2],
    pub groups: usize,
}

impl ConvTranspose2dSpec {
    pub fn output_hw(&self, hw: [usize; 2], k: [usize; 2]) -> Option<[usize; 2]> {
        let mut out = [0; 2];
        for i in 0..2 {
            let full = (hw[i].max(1) - 1) * self.stride[i] + k[i] + self.output_padding[i];
            if hw[i] == 0 || full < 2 * self.padding[i] + 1 {
                return None;
            }
            out[i] = full - 2 * self.padding[i];
        }
        Some(out)
    }

    /// The forward convolution this one is the adjoint of.
    pub fn forward(&self) -> Conv2dSpec {
        Conv2dSpec {
            stride: self.stride,
            padding: self.padding,
            groups: self.groups,
        }
    }
}

/// How `grid_sample` treats sampling positions outside the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridPadding {
    /// Outside values are 0.
    Zeros,
    /// Positions are clamped to the border pixels.
    Border,
}

/// Bilinear sampling as `torch.nn.functional.grid_sample(mode='bilinear')`:
/// `x [N, C, H, W]`, `grid [N, Ho, Wo, 2]` of (x, y) in [-1, 1].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridSampleSpec {
    pub padding: GridPadding,
    pub align_corners: bool,
}

// ---- pooling (max_pool2d, avg_pool2d) ----

/// What a pooling window computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    /// The window's maximum; padding never wins (it counts as -inf).
    Max,
    /// The window's mean. With `count_include_pad` the divisor is always
    /// `kh * kw`; without it, only the elements inside the input count.
    Avg { count_include_pad: bool },
}

/// `torch.nn.functional.max_pool2d` / `avg_pool2d` over `x [N, C, H, W]` with
/// `ceil_mode=False` and dilation 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2dSpec {
    pub kind: PoolKind,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
}

impl Pool2dSpec {
    /// Output spatial size for an input of `[h, w]`, or `None` when the window
    /// does not fit or the arguments are invalid (PyTorch requires padding at
    /// most half the kernel).
    pub fn output_hw(&self, hw: [usize; 2]) -> Option<[usize; 2]> {
        let mut out = [0; 2];
        for i in 0..2 {
            let padded = hw[i] + 2 * self.padding[i];
            if self.kernel[i] == 0
                || self.stride[i] == 0
                || 2 * self.padding[i] > self.kernel[i]
                || padded < self.kernel[i]
            {
                return None;
            }
            out[i] = (padded - self.kernel[i]) / self.stride[i] + 1;
        }
        Some(out)
    }
}

// ---- StyleGAN fused ops: bias_act and upfirdn2d ----

/// Activation functions of the fused `bias_act` op, with the official default
/// `alpha` and `gain` of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activation {
    Linear,
    Relu,
    Lrelu,
    Tanh,
    Sigmoid,
    Elu,
    Selu,
    Softplus,
    Swish,
}

impl Activation {
    pub const ALL: [Activation; 9] = [
        Activation::Linear,
        Activation::Relu,
        Activation::Lrelu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Elu,
        Activation::Selu,
        Activation::Softplus,
        Activation::Swish,
    ];

    /// The name used by the official code (`'lrelu'`, `'linear'`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::Lrelu => "lrelu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Elu => "elu",
            Activation::Selu => "selu",
            Activation::Softplus => "softplus",
            Activation::Swish => "swish",
        }
    }

    pub fn from_name(name: &str) -> Option<Activation> {
        Activation::ALL.into_iter().find(|a| a.name() == name)
    }

    /// 0.2 for lrelu, 0 otherwise.
    pub fn default_alpha(self) -> f64 {
        if self == Activation::Lrelu {
            0.2
        } else {
            0.0
        }
    }

    /// sqrt(2) for relu, lrelu and swish, 1 otherwise.
    pub fn default_gain(self) -> f64 {
        match self {
            Activation::Relu | Activation::Lrelu | Activation::Swish => std::f64::consts::SQRT_2,
            _ => 1.0,
        }
    }

    /// Whether the second derivative is non-zero somewhere (piecewise-linear
    /// activations have none).
    pub fn has_second_derivative(self) -> bool {
        !matches!(
            self,
            Activation::Linear | Activation::Relu | Activation::Lrelu
        )
    }
}

/// `y = clamp(act(x + b) * gain, -clamp, clamp)`, with `b` broadcast along one axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BiasActSpec {
    pub act: Activation,
    pub alpha: f64,
    pub gain: f64,
    /// `None` disables clamping.
    pub clamp: Option<f64>,
}

impl BiasActSpec {
    /// The activation with its official default alpha and gain, no clamp.
    pub fn new(act: Activation) -> Self {
        BiasActSpec {
            act,
            alpha: act.default_alpha(),
            gain: act.default_gain(),
            clamp: None,
        }
    }

    /// True when the op is the identity (apart from the bias).
    pub fn is_identity(&self) -> bool {
        self.act == Activation::Linear && self.gain == 1.0 && self.clamp.is_none()
    }
}

/// The memory layout `bias_act` sees: `[outer, channels, inner]`, the bias
/// indexed by the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BiasLayout {
    pub outer: usize,
    pub channels: usize,
    pub inner: usize,
}

/// `upfirdn2d`: upsample by inserting `up - 1` zeros after each sample, pad
/// (negative amounts crop), convolve with the FIR filter (a true convolution
/// unless `flip_filter`), keep every `down`-th sample. Pairs are `[x, y]`;
/// `pad` is `[x0, x1, y0, y1]`. A 2-D filter is scaled by `gain`; a 1-D filter
/// is separable (applied along x, then along y), each pass scaled by `sqrt(gain)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Upfirdn2dSpec {
    pub up: [usize; 2],
    pub down: [usize; 2],
    pub pad: [isize; 4],
    pub flip_filter: bool,
    pub gain: f64,
}

impl Upfirdn2dSpec {
    /// Output `[h, w]` for an input of `[h, w]` and a filter of `[fh, fw]`, or
    /// `None` when the padded image is smaller than the filter.
    pub fn output_hw(&self, hw: [usize; 2], fhw: [usize; 2]) -> Option<[usize; 2]> {
        let [upx, upy] = self.up;
        let [downx, downy] = self.down;
        if upx == 0 || upy == 0 || downx == 0 || downy == 0 {
            return None;
        }
        let [px0, px1, py0, py1] = self.pad;
        let span = |n: usize, up: usize, p0: isize, p1: isize, f: usize, down: usize| {
            let padded = (n * up) as isize + p0 + p1;
            (padded >= f as isize && f > 0).then(|| (padded as usize - f) / down + 1)
        };
        Some([
            span(hw[0], upy, py0, py1, fhw[0], downy)?,
            span(hw[1], upx, px0, px1, fhw[1], downx)?,
        ])
    }

    /// The op whose application to `dy` is the gradient of this one
    /// (up and down swapped, the filter flipped, the padding of the adjoint),
    /// for an input of `in_hw`, an output of `out_hw` and a filter of `fhw`.
    pub fn adjoint(&self, in_hw: [usize; 2], out_hw: [usize; 2], fhw: [usize; 2]) -> Self {
        let [upx, upy] = self.up.map(|v| v as isize);
        let [downx, downy] = self.down.map(|v| v as isize);
        let [px0, _, py0, _] = self.pad;
        let [ih, iw] = in_hw.map(|v| v as isize);
        let [oh, ow] = out_hw.map(|v| v as isize);
        let [fh, fw] = fhw.map(|v| v as isize);
        Upfirdn2dSpec {
            up: self.down,
            down: self.up,
            pad: [
                fw - px0 - 1,
                iw * upx - ow * downx + px0 - upx + 1,
                fh - py0 - 1,
                ih * upy - oh * downy + py0 - upy + 1,
            ],
            flip_filter: !self.flip_filter,
            gain: self.gain,
        }
    }
}

/// Every primitive a device must provide. Composite operations (mean, variance,
/// lerp, ...) are built from these in the core and need no kernel of their own.
pub trait Backend: Send + Sync + Debug + 'static {
    /// A short name such as `cpu` or `cuda:0`.
    fn name(&self) -> String;

    // ---- memory ----
    fn upload(&self, data: HostBuffer) -> Result<Storage>;
    fn download(&self, x: &Storage) -> Result<HostBuffer>;
    fn fill(&self, value: f64, len: usize, dtype: DType) -> Result<Storage>;
    fn cast(&self, x: &Storage, dtype: DType) -> Result<Storage>;

    // ---- elementwise ----
    fn unary(&self, op: UnaryOp, x: &Storage) -> Result<Storage>;
    /// `a` and `b` broadcast to `out` (trailing alignment, checked by the core).
    fn binary(
        &self,
        op: BinaryOp,
        a: (&Storage, &Shape),
        b: (&Storage, &Shape),
        out: &Shape,
    ) -> Result<Storage>;
    /// `cond != 0 ? a : b`, all three broadcast to `out`.
    fn where_cond(
        &self,
        cond: (&Storage, &Shape),
        a: (&Storage, &Shape),
        b: (&Storage, &Shape),
        out: &Shape,
    ) -> Result<Storage>;

    // ---- reductions and data movement ----
    /// Reduces over the sorted `axes`; the result has those axes kept with size 1.
    fn reduce(&self, op: ReduceOp, x: &Storage, shape: &Shape, axes: &[usize]) -> Result<Storage>;
    fn broadcast_to(&self, x: &Storage, shape: &Shape, out: &Shape) -> Result<Storage>;
    fn permute(&self, x: &Storage, shape: &Shape, perm: &[usize]) -> Result<Storage>;
    /// Constant padding per dimension, `(before, after)`; negative values crop.
    fn pad(
        &self,
        x: &Storage,
        shape: &Shape,
        pads: &[(isize, isize)],
        value: f64,
    ) -> Result<Storage>;
    fn concat(&self, xs: &[(&Storage, &Shape)], axis: usize) -> Result<Storage>;
    fn flip(&self, x: &Storage, shape: &Shape, axes: &[usize]) -> Result<Storage>;
    fn index_select(
        &self,
        x: &Storage,
        shape: &Shape,
        axis: usize,
        index: &[usize],
    ) -> Result<Storage>;
    /// Zeros of `src`'s shape with `axis` resized to `dim_size`, then
    /// `out[.., index[i], ..] += src[.., i, ..]`.
    fn index_add(
        &self,
        src: &Storage,
        src_shape: &Shape,
        axis: usize,
        index: &[usize],
        dim_size: usize,
    ) -> Result<Storage>;
    /// `out[i..] = x[.., index[i..], ..]` along `axis`; `index` has the output shape.
    fn gather(
        &self,
        x: &Storage,
        shape: &Shape,
        axis: usize,
        index: &[usize],
        index_shape: &Shape,
    ) -> Result<Storage>;
    /// Zeros of `out_shape`, then `out[.., index[i..], ..] += src[i..]` along `axis`.
    fn scatter_add(
        &self,
        src: &Storage,
        src_shape: &Shape,
        axis: usize,
        index: &[usize],
        out_shape: &Shape,
    ) -> Result<Storage>;

    // ---- linear algebra ----
    fn matmul(&self, a: &Storage, b: &Storage, spec: &MatmulSpec) -> Result<Storage>;
    fn conv2d(
        &self,
        x: (&Storage, &Shape),
        w: (&Storage, &Shape),
        spec: &Conv2dSpec,
    ) -> Result<Storage>;
    fn conv_transpose2d(
        &self,
        x: (&Storage, &Shape),
        w: (&Storage, &Shape),
        spec: &ConvTranspose2dSpec,
    ) -> Result<Storage>;
    /// The gradient of `conv2d(x, w)` with respect to `w`, given the output gradient
    /// `dy`; `w_shape` is the weight's shape.
    fn conv2d_weight_grad(
        &self,
        x: (&Storage, &Shape),
        dy: (&Storage, &Shape),
        w_shape: &Shape,
        spec: &Conv2dSpec,
    ) -> Result<Storage>;

    // ---- resampling ----
    /// Bilinear sampling of `x` at the positions in `grid`.
    fn grid_sample(
        &self,
        x: (&Storage, &Shape),
        grid: (&Storage, &Shape),
        spec: &GridSampleSpec,
    ) -> Result<Storage>;
    /// The adjoint of `grid_sample` in `x`: scatters `dy [N, C, Ho, Wo]` back to an
    /// input of `x_shape` with the bilinear weights of `grid`.
    fn grid_sample_backward(
        &self,
        dy: (&Storage, &Shape),
        grid: (&Storage, &Shape),
        x_shape: &Shape,
        spec: &GridSampleSpec,
    ) -> Result<Storage>;

    // ---- pooling ----
    /// Max or average pooling of `x [N, C, H, W]`; the output is `[N, C, Ho, Wo]`.
    fn pool2d(&self, x: (&Storage, &Shape), spec: &Pool2dSpec) -> Result<Storage>;
    /// The adjoint of average pooling: every output gradient of `dy [N, C, Ho, Wo]`
    /// is spread evenly (with the forward divisor) over its window of an input of
    /// `x_shape`.
    fn avg_pool2d_backward(
        &self,
        dy: (&Storage, &Shape),
        x_shape: &Shape,
        spec: &Pool2dSpec,
    ) -> Result<Storage>;
    /// For max pooling: per output element, the flat index `y * W + x` of the
    /// first maximum of its window inside its `H x W` plane (PyTorch's choice on ties).
    fn max_pool2d_argmax(&self, x: (&Storage, &Shape), spec: &Pool2dSpec) -> Result<Vec<usize>>;

    // ---- StyleGAN fused ops: bias_act, upfirdn2d, modulate_weight ----
    /// `clamp(act(x + b[c]) * gain)` over `x` laid out as `layout`; `b` has
    /// `layout.channels` elements.
    fn bias_act(
        &self,
        x: &Storage,
        b: Option<&Storage>,
        layout: BiasLayout,
        spec: &BiasActSpec,
    ) -> Result<Storage>;
    /// `dy * d bias_act / dx` at `x`: `dy * gain * act'(x + b)`, zero where the
    /// unclamped output lies outside `[-clamp, clamp]`.
    fn bias_act_grad(
        &self,
        dy: &Storage,
        x: &Storage,
        b: Option<&Storage>,
        layout: BiasLayout,
        spec: &BiasActSpec,
    ) -> Result<Storage>;
    /// `x [N, C, H, W]`, filter `f [fh, fw]` or `[taps]` (separable); the core
    /// checked that the output size is positive.
    fn upfirdn2d(
        &self,
        x: (&Storage, &Shape),
        f: (&Storage, &Shape),
        spec: &Upfirdn2dSpec,
    ) -> Result<Storage>;
    /// The modulated-conv weight preparation: `dims = [N, O, I, K]`, `weight`
    /// `[O, I, K]`, `styles [N, I]`; out `[N, O, I, K]` = `weight * styles`,
    /// times `rsqrt(sum_{I, K} out^2 + 1e-8)` per `(n, o)` when `demodulate`;
    /// laid out `[N, I, O, K]` when `transpose`.
    fn modulate_weight(
        &self,
        weight: &Storage,
        styles: &Storage,
        dims: [usize; 4],
        demodulate: bool,
        transpose: bool,
    ) -> Result<Storage>;
}

/// A cheap, cloneable handle to a backend, chosen at run time.
#[derive(Clone)]
pub struct Device(Arc<dyn Backend>);

impl Device {
    /// A device whose f16 tensors run through `backend`'s f32 kernels (see
    /// `F16ViaF32`); `backend` only moves f16 values in and out.
    pub fn new(backend: impl Backend) -> Self {
        Device(Arc::new(F16ViaF32(Box::new(backend))))
    }

    pub fn from_box(backend: Box<dyn Backend>) -> Self {
        Device(Arc::new(F16ViaF32(backend)))
    }

    pub fn backend(&self) -> &dyn Backend {
        &*self.0
    }

    pub fn name(&self) -> String {
        self.0.name()
    }

    /// Two handles name the same device when they share a backend or report the
    /// same name (two CPU backends hold interchangeable memory).
    pub fn same(&self, other: &Device) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.0), Arc::as_ptr(&other.0))
            || self.0.name() == other.0.name()
    }
}

impl Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Device({})", self.0.name())
    }
}
