//! The StyleGAN2 building blocks with the official semantics, one file per
//! official function: `bias_act`, `upfirdn2d` (with `setup_filter`,
//! `upsample2d`, `downsample2d`), `conv2d_resample`, `modulated_conv2d`,
//! `normalize_2nd_moment` and the minibatch standard deviation.

pub mod bias_act;
pub mod conv2d_resample;
pub mod minibatch_std;
pub mod modulated_conv2d;
pub mod normalize_2nd_moment;
pub mod upfirdn2d;
pub mod wavelets;

pub use bias_act::{activation, bias_act};
pub use conv2d_resample::{conv2d_resample, conv2d_resample_transposed};
pub use minibatch_std::minibatch_std;
pub use modulated_conv2d::{modulated_conv2d, ModConvArgs};
pub use normalize_2nd_moment::normalize_2nd_moment;
pub use upfirdn2d::{downsample2d, filter2d, parse_padding, setup_filter, upfirdn2d, upsample2d};
pub use wavelets::wavelet;
