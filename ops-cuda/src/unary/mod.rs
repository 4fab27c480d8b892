//! Elementwise functions of one tensor: one kernel, the function chosen by an
//! op code (uniform across the grid, so the branch costs next to nothing).

use crate::device::{grid, kname, launch, Inner};
use crate::kernels::{code_defines, code_of, float_kernels, KernelSource};
use crate::storage::CudaStorage;
use tcgan_core::backend::{SELU_ALPHA, SELU_SCALE};
use tcgan_core::{Result, UnaryOp};

/// Op codes in order; the kernel sees them as `TC_UNARY_<NAME>`.
const OPS: &[&str] = &[
    "NEG",
    "EXP",
    "LOG",
    "SQRT",
    "RSQRT",
    "RECIP",
    "ABS",
    "SIGN",
    "SQUARE",
    "CUBE",
    "TANH",
    "SIGMOID",
    "SOFTPLUS",
    "RELU",
    "STEP",
    "LEAKY_RELU",
    "LEAKY_STEP",
    "ELU",
    "SELU",
    "SWISH",
    "POW",
    "AFFINE",
    "CLAMP",
    "IN_RANGE",
];

fn defines() -> String {
    code_defines("TC_UNARY", OPS)
}

pub const SOURCE: KernelSource = KernelSource {
    name: "unary",
    code: include_str!("unary.cu"),
    kernels: float_kernels!("unary"),
    defines,
};

/// The op code and its two parameters.
fn encode(op: UnaryOp) -> (&'static str, f64, f64) {
    use UnaryOp::*;
    match op {
        Neg => ("NEG", 0.0, 0.0),
        Exp => ("EXP", 0.0, 0.0),
        Log => ("LOG", 0.0, 0.0),
        Sqrt => ("SQRT", 0.0, 0.0),
        Rsqrt => ("RSQRT", 0.0, 0.0),
        Recip => ("RECIP", 0.0, 0.0),
        Abs => ("ABS", 0.0, 0.0),
        Sign => ("SIGN", 0.0, 0.0),
        Square => ("SQUARE", 0.0, 0.0),
        Tanh => ("TANH", 0.0, 0.0),
        Sigmoid => ("SIGMOID", 0.0, 0.0),
        Softplus => ("SOFTPLUS", 0.0, 0.0),
        Relu => ("RELU", 0.0, 0.0),
        Step => ("STEP", 0.0, 0.0),
        LeakyRelu(a) => ("LEAKY_RELU", a, 0.0),
        LeakyStep(a) => ("LEAKY_STEP", a, 0.0),
        Elu => ("ELU", 0.0, 0.0),
        Selu => ("SELU", SELU_SCALE, SELU_ALPHA),
        Swish => ("SWISH", 0.0, 0.0),
        // The same special cases as the CPU backend, for the same rounding.
        PowScalar(2.0) => ("SQUARE", 0.0, 0.0),
        PowScalar(3.0) => ("CUBE", 0.0, 0.0),
        PowScalar(0.5) => ("SQRT", 0.0, 0.0),
        PowScalar(p) => ("POW", p, 0.0),
        Affine { mul, add } => ("AFFINE", mul, add),
        Clamp { lo, hi } => ("CLAMP", lo, hi),
        InRange { lo, hi } => ("IN_RANGE", lo, hi),
    }
}

pub fn unary(inner: &Inner, op: UnaryOp, x: &CudaStorage) -> Result<CudaStorage> {
    let out = inner.alloc(x.len, x.dtype)?;
    if x.len > 0 {
        let (name, p, q) = encode(op);
        let code = code_of(OPS, name);
        let (o, xp, n) = (out.device_ptr(), x.device_ptr(), x.len as u32);
        launch!(inner, kname("unary", x.dtype), grid(x.len); o, xp, n, code, p, q);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_has_a_code() {
        use UnaryOp::*;
        let ops = [
            Neg,
            Exp,
            Log,
            Sqrt,
            Rsqrt,
            Recip,
            Abs,
            Sign,
            Square,
            Tanh,
            Sigmoid,
            Softplus,
            Relu,
            Step,
            LeakyRelu(0.2),
            LeakyStep(0.2),
            Elu,
            Selu,
            Swish,
            PowScalar(2.0),
            PowScalar(3.0),
            PowScalar(0.5),
            PowScalar(1.5),
            Affine { mul: 2.0, add: 1.0 },
            Clamp { lo: -1.0, hi: 1.0 },
            InRange { lo: -1.0, hi: 1.0 },
        ];
        for op in ops {
            let (name, _, _) = encode(op);
            assert!(OPS.contains(&name), "{op:?} encodes to {name}, not in OPS");
        }
    }

    #[test]
    fn every_op_code_is_handled_by_the_kernel() {
        for name in OPS {
            assert!(
                SOURCE.code.contains(&format!("case TC_UNARY_{name}:")),
                "unary.cu has no case for {name}"
            );
        }
    }
}
