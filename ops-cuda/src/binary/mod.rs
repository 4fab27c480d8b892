//! Broadcasting elementwise functions of two tensors, and `where_cond`: a
//! contiguous fast path, else strided reads through a merged `Layout`.

use crate::device::{grid, kname, launch, Inner};
use crate::kernels::{code_defines, code_of, float_kernels, KernelSource};
use crate::layout::{broadcast_strides, Layout};
use crate::storage::CudaStorage;
use tcgan_core::{BinaryOp, Result, Shape};

/// Op codes in order; the kernel sees them as `TC_BINARY_<NAME>`.
const OPS: &[&str] = &[
    "ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "POW", "GT", "GE", "LT", "LE", "EQ", "NE",
];

fn defines() -> String {
    code_defines("TC_BINARY", OPS)
}

pub const SOURCE: KernelSource = KernelSource {
    name: "binary",
    code: include_str!("binary.cu"),
    kernels: float_kernels!("binary_contig", "binary_strided", "where_strided"),
    defines,
};

fn name(op: BinaryOp) -> &'static str {
    use BinaryOp::*;
    match op {
        Add => "ADD",
        Sub => "SUB",
        Mul => "MUL",
        Div => "DIV",
        Maximum => "MAXIMUM",
        Minimum => "MINIMUM",
        Pow => "POW",
        Gt => "GT",
        Ge => "GE",
        Lt => "LT",
        Le => "LE",
        Eq => "EQ",
        Ne => "NE",
    }
}

pub fn binary(
    inner: &Inner,
    op: BinaryOp,
    (a, a_shape): (&CudaStorage, &Shape),
    (b, b_shape): (&CudaStorage, &Shape),
    out_shape: &Shape,
) -> Result<CudaStorage> {
    let n = out_shape.numel();
    let out = inner.alloc(n, a.dtype)?;
    if n == 0 {
        return Ok(out);
    }
    let l = Layout::new(
        out_shape.dims(),
        &[
            broadcast_strides(a_shape, out_shape),
            broadcast_strides(b_shape, out_shape),
        ],
        &[0, 0],
    )
    .map_err(|e| inner.err(e))?;
    let code = code_of(OPS, name(op));
    let (o, ap, bp, n32) = (out.device_ptr(), a.device_ptr(), b.device_ptr(), n as u32);
    if l.is_contiguous(0) && l.is_contiguous(1) {
        launch!(inner, kname("binary_contig", a.dtype), grid(n); o, ap, bp, n32, code);
    } else {
        launch!(inner, kname("binary_strided", a.dtype), grid(n); o, ap, bp, n32, code, l);
    }
    Ok(out)
}

pub fn where_cond(
    inner: &Inner,
    (c, c_shape): (&CudaStorage, &Shape),
    (a, a_shape): (&CudaStorage, &Shape),
    (b, b_shape): (&CudaStorage, &Shape),
    out_shape: &Shape,
) -> Result<CudaStorage> {
    let n = out_shape.numel();
    let out = inner.alloc(n, a.dtype)?;
    if n == 0 {
        return Ok(out);
    }
    let l = Layout::new(
        out_shape.dims(),
        &[
            broadcast_strides(c_shape, out_shape),
            broadcast_strides(a_shape, out_shape),
            broadcast_strides(b_shape, out_shape),
        ],
        &[0, 0, 0],
    )
    .map_err(|e| inner.err(e))?;
    let (o, cp, ap, bp, n32) = (
        out.device_ptr(),
        c.device_ptr(),
        a.device_ptr(),
        b.device_ptr(),
        n as u32,
    );
    launch!(inner, kname("where_strided", a.dtype), grid(n); o, cp, ap, bp, n32, l);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_has_a_code() {
        use BinaryOp::*;
        for op in [
            Add, Sub, Mul, Div, Maximum, Minimum, Pow, Gt, Ge, Lt, Le, Eq, Ne,
        ] {
            assert!(OPS.contains(&name(op)), "{op:?}");
        }
    }

    #[test]
    fn every_op_code_is_handled_by_the_kernel() {
        for name in OPS {
            assert!(
                SOURCE.code.contains(&format!("case TC_BINARY_{name}:")),
                "binary.cu has no case for {name}"
            );
        }
    }
}
