//! Fused bias + activation + gain + clamp and its gradient (see bias_act.cu).

use crate::device::{grid, kname, launch, Inner};
use crate::kernels::{code_defines, code_of, float_kernels, KernelSource};
use crate::storage::CudaStorage;
use tcgan_core::backend::{SELU_ALPHA, SELU_SCALE};
use tcgan_core::{Activation, BiasActSpec, BiasLayout, Result};

/// Activation codes in order; the kernel sees them as `TC_ACT_<NAME>`.
const ACTS: &[&str] = &[
    "LINEAR", "RELU", "LRELU", "TANH", "SIGMOID", "ELU", "SELU", "SOFTPLUS", "SWISH",
];

fn defines() -> String {
    // `{:?}` prints the shortest decimal that reads back as the same f64.
    code_defines("TC_ACT", ACTS)
        + &format!("#define TC_SELU_SCALE {SELU_SCALE:?}\n#define TC_SELU_ALPHA {SELU_ALPHA:?}\n")
}

pub const SOURCE: KernelSource = KernelSource {
    name: "bias_act",
    code: include_str!("bias_act.cu"),
    kernels: float_kernels!("bias_act", "bias_act_grad"),
    defines,
};

fn code(act: Activation) -> i32 {
    code_of(
        ACTS,
        match act {
            Activation::Linear => "LINEAR",
            Activation::Relu => "RELU",
            Activation::Lrelu => "LRELU",
            Activation::Tanh => "TANH",
            Activation::Sigmoid => "SIGMOID",
            Activation::Elu => "ELU",
            Activation::Selu => "SELU",
            Activation::Softplus => "SOFTPLUS",
            Activation::Swish => "SWISH",
        },
    )
}

/// Checks that the operands match the layout (the kernels index them by it)
/// and returns the element count.
fn check(
    inner: &Inner,
    op: &str,
    operands: &[&CudaStorage],
    b: Option<&CudaStorage>,
    layout: BiasLayout,
) -> Result<usize> {
    let n = layout.outer * layout.channels * layout.inner;
    let dtype = operands[0].dtype;
    for s in operands {
        if s.len != n || s.dtype != dtype {
            return Err(inner.err(format!(
                "{op}: {s:?} does not match the layout {layout:?} of {n} {} values",
                dtype.name()
            )));
        }
    }
    if let Some(b) = b {
        if b.len != layout.channels || b.dtype != dtype {
            return Err(inner.err(format!(
                "{op}: the bias {b:?} is not {} {} values",
                layout.channels,
                dtype.name()
            )));
        }
    }
    Ok(n)
}

/// The scalar arguments shared by both kernels, in their parameter order.
struct Scalars {
    n: u32,
    channels: u32,
    inner: u32,
    act: i32,
    alpha: f64,
    gain: f64,
    clamped: i32,
    clamp: f64,
}

fn scalars(n: usize, layout: BiasLayout, spec: &BiasActSpec) -> Scalars {
    // n > 0 here, so every factor is at least 1 and at most n < 2^31.
    Scalars {
        n: n as u32,
        channels: layout.channels as u32,
        inner: layout.inner as u32,
        act: code(spec.act),
        alpha: spec.alpha,
        gain: spec.gain,
        clamped: spec.clamp.is_some() as i32,
        clamp: spec.clamp.unwrap_or(0.0),
    }
}

pub fn bias_act(
    inner: &Inner,
    x: &CudaStorage,
    b: Option<&CudaStorage>,
    layout: BiasLayout,
    spec: &BiasActSpec,
) -> Result<CudaStorage> {
    let n = check(inner, "bias_act", &[x], b, layout)?;
    let out = inner.alloc(n, x.dtype)?;
    if n > 0 {
        let Scalars {
            n: n32,
            channels,
            inner: inn,
            act,
            alpha,
            gain,
            clamped,
            clamp,
        } = scalars(n, layout, spec);
        let (o, xp, bp) = (
            out.device_ptr(),
            x.device_ptr(),
            b.map_or(0, |b| b.device_ptr()),
        );
        launch!(inner, kname("bias_act", x.dtype), grid(n);
            o, xp, bp, n32, channels, inn, act, alpha, gain, clamped, clamp);
    }
    Ok(out)
}

pub fn bias_act_grad(
    inner: &Inner,
    dy: &CudaStorage,
    x: &CudaStorage,
    b: Option<&CudaStorage>,
    layout: BiasLayout,
    spec: &BiasActSpec,
) -> Result<CudaStorage> {
    let n = check(inner, "bias_act_grad", &[x, dy], b, layout)?;
    let out = inner.alloc(n, x.dtype)?;
    if n > 0 {
        let Scalars {
            n: n32,
            channels,
            inner: inn,
            act,
            alpha,
            gain,
            clamped,
            clamp,
        } = scalars(n, layout, spec);
        let (o, g, xp) = (out.device_ptr(), dy.device_ptr(), x.device_ptr());
        let bp = b.map_or(0, |b| b.device_ptr());
        launch!(inner, kname("bias_act_grad", x.dtype), grid(n);
            o, g, xp, bp, n32, channels, inn, act, alpha, gain, clamped, clamp);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_activation_has_a_code_the_kernel_handles() {
        for act in Activation::ALL {
            let name = ACTS[code(act) as usize];
            assert!(
                SOURCE.code.contains(&format!("case TC_ACT_{name}:")),
                "bias_act.cu has no case for {name}"
            );
        }
        assert_eq!(ACTS.len(), Activation::ALL.len());
    }

    #[test]
    fn selu_constants_read_back_exactly() {
        let d = defines();
        for (name, v) in [("SCALE", SELU_SCALE), ("ALPHA", SELU_ALPHA)] {
            let line = d
                .lines()
                .find(|l| l.starts_with(&format!("#define TC_SELU_{name} ")))
                .unwrap();
            let text = line.rsplit(' ').next().unwrap();
            assert_eq!(text.parse::<f64>().unwrap(), v);
        }
    }
}
