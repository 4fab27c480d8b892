//! tcgan-ops-cpu: the CPU backend, the reference implementation of every
//! primitive of `tcgan_core::Backend`. Matrix products go through the `gemm`
//! crate; work is split over the rayon thread pool in fixed-size pieces.

mod bias_act;
mod binary;
mod cast;
mod conv;
mod gemm;
mod grid_sample;
mod index;
mod matmul;
mod modulate_weight;
mod movement;
mod parallel;
mod pool2d;
mod reduce;
mod simd;
mod storage;
mod strided;
mod unary;
mod upfirdn2d;

pub use storage::CpuStorage;

use std::sync::{Arc, OnceLock};
use storage::{cpu_storage, wrap};
use tcgan_core::{
    Backend, BiasActSpec, BiasLayout, BinaryOp, Conv2dSpec, ConvTranspose2dSpec, DType, Device,
    Error, GridSampleSpec, HostBuffer, MatmulSpec, Pool2dSpec, ReduceOp, Result, Shape, Storage,
    UnaryOp, Upfirdn2dSpec,
};

#[derive(Debug, Default)]
pub struct CpuBackend;

/// The CPU device (one shared backend per process).
pub fn cpu() -> Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE.get_or_init(|| Device::new(CpuBackend)).clone()
}

/// Sets the number of worker threads; call once, before any tensor work.
/// Returns an error if the pool was already started.
pub fn set_num_threads(n: usize) -> Result<()> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|e| Error::Backend {
            backend: "cpu".into(),
            msg: format!("cannot set the thread count to {n}: {e}"),
        })
}

pub fn num_threads() -> usize {
    parallel::num_threads()
}

/// Calls the kernel instantiated for the dtype of `$s`.
macro_rules! dispatch {
    ($s:expr, $f:ident ( $($arg:expr),* )) => {
        match $s.dtype() {
            DType::F32 => $f::<f32>($($arg),*),
            DType::F64 => $f::<f64>($($arg),*),
            DType::F16 => Err(f16_kernel_error(stringify!($f))),
        }
    };
}

/// f16 tensors reach the kernels as f32 through `F16ViaF32`, which every
/// `Device` puts in front of its backend; a bare `CpuBackend` refuses them.
fn f16_kernel_error(op: &str) -> Error {
    Error::Backend {
        backend: "cpu".into(),
        msg: format!("{op} has no f16 kernel: run f16 tensors through a Device"),
    }
}

impl Backend for CpuBackend {
    fn name(&self) -> String {
        "cpu".to_string()
    }

    fn upload(&self, data: HostBuffer) -> Result<Storage> {
        Ok(match data {
            HostBuffer::F32(v) => wrap(v),
            HostBuffer::F64(v) => wrap(v),
            HostBuffer::F16(v) => Arc::new(CpuStorage::F16(v)),
        })
    }

    fn download(&self, x: &Storage) -> Result<HostBuffer> {
        Ok(match cpu_storage(x)? {
            CpuStorage::F32(v) => HostBuffer::F32(v.clone()),
            CpuStorage::F64(v) => HostBuffer::F64(v.clone()),
            CpuStorage::F16(v) => HostBuffer::F16(v.clone()),
        })
    }

    fn fill(&self, value: f64, len: usize, dtype: DType) -> Result<Storage> {
        Ok(match dtype {
            DType::F32 => wrap(storage::filled_vec(len, value as f32)),
            DType::F64 => wrap(storage::filled_vec(len, value)),
            DType::F16 => Arc::new(CpuStorage::F16(vec![half::f16::from_f64(value); len])),
        })
    }

    fn cast(&self, x: &Storage, dtype: DType) -> Result<Storage> {
        use half::f16;
        Ok(match (cpu_storage(x)?, dtype) {
            (CpuStorage::F32(v), DType::F64) => {
                wrap(v.iter().map(|&a| a as f64).collect::<Vec<_>>())
            }
            (CpuStorage::F64(v), DType::F32) => {
                wrap(v.iter().map(|&a| a as f32).collect::<Vec<_>>())
            }
            (CpuStorage::F32(v), DType::F16) => Arc::new(CpuStorage::F16(cast::f32_to_f16(v))),
            (CpuStorage::F16(v), DType::F32) => {
                let mut out = storage::uninit_vec::<f32>(v.len());
                cast::f16_to_f32(v, &mut out);
                wrap(out)
            }
            (CpuStorage::F64(v), DType::F16) => Arc::new(CpuStorage::F16(
                v.iter().map(|&a| f16::from_f64(a)).collect(),
            )),
            (CpuStorage::F16(v), DType::F64) => {
                wrap(v.iter().map(|&a| f64::from(a)).collect::<Vec<_>>())
            }
            _ => x.clone(),
        })
    }

    fn unary(&self, op: UnaryOp, x: &Storage) -> Result<Storage> {
        use unary::unary;
        dispatch!(x, unary(op, x))
    }

    fn binary(
        &self,
        op: BinaryOp,
        a: (&Storage, &Shape),
        b: (&Storage, &Shape),
        out: &Shape,
    ) -> Result<Storage> {
        use binary::binary;
        dispatch!(a.0, binary(op, a, b, out))
    }

    fn where_cond(
        &self,
        cond: (&Storage, &Shape),
        a: (&Storage, &Shape),
        b: (&Storage, &Shape),
        out: &Shape,
    ) -> Result<Storage> {
        use binary::where_cond;
        dispatch!(a.0, where_cond(cond, a, b, out))
    }

    fn reduce(&self, op: ReduceOp, x: &Storage, shape: &Shape, axes: &[usize]) -> Result<Storage> {
        use reduce::reduce;
        dispatch!(x, reduce(op, x, shape, axes))
    }

    fn broadcast_to(&self, x: &Storage, shape: &Shape, out: &Shape) -> Result<Storage> {
        use movement::broadcast_to;
        dispatch!(x, broadcast_to(x, shape, out))
    }

    fn permute(&self, x: &Storage, shape: &Shape, perm: &[usize]) -> Result<Storage> {
        use movement::permute;
        dispatch!(x, permute(x, shape, perm))
    }

    fn pad(
        &self,
        x: &Storage,
        shape: &Shape,
        pads: &[(isize, isize)],
        value: f64,
    ) -> Result<Storage> {
        use movement::pad;
        dispatch!(x, pad(x, shape, pads, value))
    }

    fn concat(&self, xs: &[(&Storage, &Shape)], axis: usize) -> Result<Storage> {
        use movement::concat;
        dispatch!(xs[0].0, concat(xs, axis))
    }

    fn flip(&self, x: &Storage, shape: &Shape, axes: &[usize]) -> Result<Storage> {
        use movement::flip;
        dispatch!(x, flip(x, shape, axes))
    }

    fn index_select(
        &self,
        x: &Storage,
        shape: &Shape,
        axis: usize,
        index: &[usize],
    ) -> Result<Storage> {
        use index::index_select;
        dispatch!(x, index_select(x, shape, axis, index))
    }

    fn index_add(
        &self,
        src: &Storage,
        src_shape: &Shape,
        axis: usize,
        index: &[usize],
        dim_size: usize,
    ) -> Result<Storage> {
        use index::index_add;
        dispatch!(src, index_add(src, src_shape, axis, index, dim_size))
    }

    fn gather(
        &self,
        x: &Storage,
        shape: &Shape,
        axis: usize,
        index: &[usize],
        index_shape: &Shape,
    ) -> Result<Storage> {
        use index::gather;
        dispatch!(x, gather(x, shape, axis, index, index_shape))
    }

    fn scatter_add(
        &self,
        src: &Storage,
        src_shape: &Shape,
        axis: usize,
        index: &[usize],
        out_shape: &Shape,
    ) -> Result<Storage> {
        use index::scatter_add;
        dispatch!(src, scatter_add(src, src_shape, axis, index, out_shape))
    }

    fn matmul(&self, a: &Storage, b: &Storage, spec: &MatmulSpec) -> Result<Storage> {
        use matmul::matmul;
        dispatch!(a, matmul(a, b, spec))
    }

    fn conv2d(
        &self,
        x: (&Storage, &Shape),
        w: (&Storage, &Shape),
        spec: &Conv2dSpec,
    ) -> Result<Storage> {
        use conv::conv2d;
        dispatch!(x.0, conv2d(x, w, spec))
    }

    fn conv_transpose2d(
        &self,
        x: (&Storage, &Shape),
        w: (&Storage, &Shape),
        spec: &ConvTranspose2dSpec,
    ) -> Result<Storage> {
        use conv::conv_transpose2d;
        dispatch!(x.0, conv_transpose2d(x, w, spec))
    }

    fn conv2d_weight_grad(
        &self,
        x: (&Storage, &Shape),
        dy: (&Storage, &Shape),
        w_shape: &Shape,
        spec: &Conv2dSpec,
    ) -> Result<Storage> {
        use conv::conv2d_weight_grad;
        dispatch!(x.0, conv2d_weight_grad(x, dy, w_shape, spec))
    }
    fn grid_sample(
        &self,
        x: (&Storage, &Shape),
        grid: (&Storage, &Shape),
        spec: &GridSampleSpec,
    ) -> Result<Storage> {
        use grid_sample::grid_sample;
        dispatch!(x.0, grid_sample(x, grid, spec))
    }

    fn grid_sample_backward(
        &self,
        dy: (&Storage, &Shape),
        grid: (&Storage, &Shape),
        x_shape: &Shape,
        spec: &GridSampleSpec,
    ) -> Result<Storage> {
        use grid_sample::grid_sample_backward;
        dispatch!(dy.0, grid_sample_backward(dy, grid, x_shape, spec))
    }

    fn pool2d(&self, x: (&Storage, &Shape), spec: &Pool2dSpec) -> Result<Storage> {
        use pool2d::pool2d;
        dispatch!(x.0, pool2d(x, spec))
    }

    fn avg_pool2d_backward(
        &self,
        dy: (&Storage, &Shape),
        x_shape: &Shape,
        spec: &Pool2dSpec,
    ) -> Result<Storage> {
        use pool2d::avg_pool2d_backward;
        dispatch!(dy.0, avg_pool2d_backward(dy, x_shape, spec))
    }

    fn max_pool2d_argmax(&self, x: (&Storage, &Shape), spec: &Pool2dSpec) -> Result<Vec<usize>> {
        use pool2d::max_pool2d_argmax;
        dispatch!(x.0, max_pool2d_argmax(x, spec))
    }

    // ---- StyleGAN fused ops: bias_act, upfirdn2d, modulate_weight ----
    fn bias_act(
        &self,
        x: &Storage,
        b: Option<&Storage>,
        layout: BiasLayout,
        spec: &BiasActSpec,
    ) -> Result<Storage> {
        use bias_act::bias_act;
        dispatch!(x, bias_act(x, b, layout, spec))
    }

    fn bias_act_grad(
        &self,
        dy: &Storage,
        x: &Storage,
        b: Option<&Storage>,
        layout: BiasLayout,
        spec: &BiasActSpec,
    ) -> Result<Storage> {
        use bias_act::bias_act_grad;
        dispatch!(x, bias_act_grad(dy, x, b, layout, spec))
    }

    fn upfirdn2d(
        &self,
        x: (&Storage, &Shape),
        f: (&Storage, &Shape),
        spec: &Upfirdn2dSpec,
    ) -> Result<Storage> {
        use upfirdn2d::upfirdn2d;
        dispatch!(x.0, upfirdn2d(x, f, spec))
    }

    fn modulate_weight(
        &self,
        weight: &Storage,
        styles: &Storage,
        dims: [usize; 4],
        demodulate: bool,
        transpose: bool,
    ) -> Result<Storage> {
        use modulate_weight::modulate_weight;
        dispatch!(
            weight,
            modulate_weight(weight, styles, dims, demodulate, transpose)
        )
    }
}
