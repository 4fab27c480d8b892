//! Sum / max / min over sorted axes. Axes are merged into runs of kept and
//! reduced dims; the common layouts ([kept, reduced], [reduced, kept],
//! [kept, reduced, kept]) reduce in place, others are first permuted so that
//! the reduced dims come last.

use crate::device::{grid, kname, launch, Inner};
use crate::kernels::{code_defines, code_of, float_kernels, KernelSource};
use crate::layout::Layout;
use crate::movement::copy_strided;
use crate::storage::CudaStorage;
use cudarc::driver::LaunchConfig;
use tcgan_core::{ReduceOp, Result, Shape};

const OPS: &[&str] = &["SUM", "MAX", "MIN"];

fn defines() -> String {
    code_defines("TC_REDUCE", OPS)
}

pub const SOURCE: KernelSource = KernelSource {
    name: "reduce",
    code: include_str!("reduce.cu"),
    kernels: float_kernels!("reduce_rows", "reduce_serial", "reduce_cols"),
    defines,
};

/// Rows at least this long get a whole block each.
const BLOCK_ROW: usize = 256;

fn code(op: ReduceOp) -> i32 {
    code_of(
        OPS,
        match op {
            ReduceOp::Sum => "SUM",
            ReduceOp::Max => "MAX",
            ReduceOp::Min => "MIN",
        },
    )
}

/// `x` as `[outer, red, inner]` reduced over the middle into `out`.
fn reduce3(
    inner_: &Inner,
    op: ReduceOp,
    out: &CudaStorage,
    x: &CudaStorage,
    outer: usize,
    red: usize,
    inner: usize,
) -> Result<()> {
    let c = code(op);
    let (o, xp) = (out.device_ptr(), x.device_ptr());
    let (outer32, red32, inner32) = (outer as u32, red as u32, inner as u32);
    if inner == 1 && red >= BLOCK_ROW {
        let cfg = LaunchConfig {
            grid_dim: (outer.clamp(1, 1 << 16) as u32, 1, 1),
            block_dim: (256, 1, 1),
            shared_mem_bytes: 0,
        };
        launch!(inner_, kname("reduce_rows", x.dtype), cfg; o, xp, outer32, red32, c);
    } else if inner == 1 {
        launch!(inner_, kname("reduce_serial", x.dtype), grid(outer); o, xp, outer32, red32, c);
    } else {
        let cfg = LaunchConfig {
            grid_dim: (inner.div_ceil(32) as u32, outer.clamp(1, 65535) as u32, 1),
            block_dim: (32, 8, 1),
            shared_mem_bytes: 0,
        };
        launch!(inner_, kname("reduce_cols", x.dtype), cfg; o, xp, outer32, red32, inner32, c);
    }
    Ok(())
}

pub fn reduce(
    inner: &Inner,
    op: ReduceOp,
    x: &CudaStorage,
    shape: &Shape,
    axes: &[usize],
) -> Result<CudaStorage> {
    // Runs of neighbouring kept / reduced dims, size-1 dims dropped.
    let mut groups: Vec<(bool, usize)> = Vec::new();
    for (i, &d) in shape.dims().iter().enumerate() {
        if d == 1 {
            continue;
        }
        let red = axes.contains(&i);
        match groups.last_mut() {
            Some((r, n)) if *r == red => *n *= d,
            _ => groups.push((red, d)),
        }
    }
    let kept: usize = groups.iter().filter(|g| !g.0).map(|g| g.1).product();
    let reduced: usize = groups.iter().filter(|g| g.0).map(|g| g.1).product();
    let out = inner.alloc(kept, x.dtype)?;
    if kept == 0 {
        return Ok(out);
    }
    match groups.as_slice() {
        [] | [(false, _)] => inner.copy_dtod(
            out.device_ptr(),
            x.device_ptr(),
            kept * x.dtype.size_in_bytes(),
        )?,
        [(true, r)] => reduce3(inner, op, &out, x, 1, *r, 1)?,
        [(true, r), (false, k)] => reduce3(inner, op, &out, x, 1, *r, *k)?,
        [(false, k), (true, r)] => reduce3(inner, op, &out, x, *k, *r, 1)?,
        [(false, o), (true, r), (false, i)] => reduce3(inner, op, &out, x, *o, *r, *i)?,
        _ => {
            // Move the reduced runs last, then reduce rows.
            let dims: Vec<usize> = groups.iter().map(|g| g.1).collect();
            let own = Shape::new(dims.clone()).strides();
            let mut perm: Vec<usize> = (0..groups.len()).filter(|&i| !groups[i].0).collect();
            perm.extend((0..groups.len()).filter(|&i| groups[i].0));
            let pd: Vec<usize> = perm.iter().map(|&p| dims[p]).collect();
            let ps: Vec<isize> = perm.iter().map(|&p| own[p] as isize).collect();
            let l = Layout::new(&pd, &[ps], &[0]).map_err(|e| inner.err(e))?;
            let moved = copy_strided(inner, x, x.len, &l)?;
            reduce3(inner, op, &out, &moved, kept, reduced, 1)?;
        }
    }
    Ok(out)
}
