//! conv2d, conv_transpose2d and the conv2d weight gradient: im2col / col2im
//! kernels around cuBLAS products, over chunks of images so that the column
//! buffer stays within a fixed budget.

use crate::device::{grid, kname, launch, Gemm, Inner};
use crate::fill::fill;
use crate::kernels::{float_kernels, no_defines, KernelSource};
use crate::layout::Layout;
use crate::movement::copy_strided;
use crate::storage::CudaStorage;
use cudarc::driver::DeviceRepr;
use tcgan_core::{Conv2dSpec, ConvTranspose2dSpec, Result, Shape};

pub const SOURCE: KernelSource = KernelSource {
    name: "conv",
    code: include_str!("conv.cu"),
    kernels: float_kernels!("im2col", "col2im"),
    defines: no_defines,
};

/// Bytes of column buffer one call may use (at least one image's worth).
const COL_BUDGET: usize = 256 << 20;

/// Mirrors `struct ConvGeom` of conv.cu: one image-group in the forward
/// (conv2d) direction.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct ConvGeom {
    c: i32,
    h: i32,
    w: i32,
    kh: i32,
    kw: i32,
    sh: i32,
    sw: i32,
    ph: i32,
    pw: i32,
    ho: i32,
    wo: i32,
}

// SAFETY: plain old data with the C layout of the kernel parameter.
unsafe impl DeviceRepr for ConvGeom {}

impl ConvGeom {
    // In usize: an empty batch may carry planes whose i32 product overflows.
    fn r(&self) -> usize {
        self.c as usize * self.kh as usize * self.kw as usize
    }
    fn p(&self) -> usize {
        self.ho as usize * self.wo as usize
    }
    fn in_len(&self) -> usize {
        self.c as usize * self.h as usize * self.w as usize
    }
    fn pointwise(&self) -> bool {
        (self.kh, self.kw, self.sh, self.sw, self.ph, self.pw) == (1, 1, 1, 1, 0, 0)
    }
}

#[allow(clippy::too_many_arguments)]
fn geom(
    c: usize,
    h: usize,
    w: usize,
    k: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
    out: [usize; 2],
) -> ConvGeom {
    ConvGeom {
        c: c as i32,
        h: h as i32,
        w: w as i32,
        kh: k[0] as i32,
        kw: k[1] as i32,
        sh: stride[0] as i32,
        sw: stride[1] as i32,
        ph: pad[0] as i32,
        pw: pad[1] as i32,
        ho: out[0] as i32,
        wo: out[1] as i32,
    }
}

/// Images per chunk when one image needs `per_image` elements of buffer.
fn chunk(per_image: usize, elem: usize, images: usize) -> usize {
    (COL_BUDGET / (per_image * elem).max(1)).clamp(1, images.max(1))
}

/// Writes the columns of `images` images (`groups` groups each) starting at
/// `x`, element (n, g, r, p) at `n * s[0] + g * s[1] + r * s[2] + p`.
#[allow(clippy::too_many_arguments)]
fn im2col(
    inner: &Inner,
    col: &CudaStorage,
    x: u64,
    g: &ConvGeom,
    images: usize,
    groups: usize,
    s: [usize; 3],
) -> Result<()> {
    let n = images * groups * g.r() * g.p();
    if n == 0 {
        return Ok(());
    }
    let (cp, gg, im, gr) = (col.device_ptr(), *g, images as u32, groups as u32);
    let (s_n, s_g, s_r) = (s[0] as u32, s[1] as u32, s[2] as u32);
    launch!(inner, kname("im2col", col.dtype), grid(n); cp, x, gg, im, gr, s_n, s_g, s_r);
    Ok(())
}

pub fn conv2d(
    inner: &Inner,
    (x, xs): (&CudaStorage, &Shape),
    (w, ws): (&CudaStorage, &Shape),
    spec: &Conv2dSpec,
) -> Result<CudaStorage> {
    let groups = spec.groups;
    let [ho, wo] = spec
        .output_hw([xs.dim(2), xs.dim(3)], [ws.dim(2), ws.dim(3)])
        .ok_or_else(|| inner.err("conv2d: the kernel does not fit the padded input"))?;
    let (n, c, o) = (xs.dim(0), xs.dim(1) / groups, ws.dim(0) / groups);
    let g = geom(
        c,
        xs.dim(2),
        xs.dim(3),
        [ws.dim(2), ws.dim(3)],
        spec.stride,
        spec.padding,
        [ho, wo],
    );
    let (r, p) = (g.r(), g.p());
    let out_len = n * groups * o * p;
    if r == 0 {
        return fill(inner, 0.0, out_len, x.dtype);
    }
    let out = inner.alloc(out_len, x.dtype)?;
    if out_len == 0 {
        return Ok(out);
    }
    let elem = x.dtype.size_in_bytes() as u64;
    let per_image = groups * r * p;
    let nc = chunk(per_image, elem as usize, n);
    let col = if g.pointwise() {
        None
    } else {
        Some(inner.alloc(nc * per_image, x.dtype)?)
    };
    for n0 in (0..n).step_by(nc) {
        let nl = nc.min(n - n0);
        let xp = x.device_ptr() + (n0 * groups * g.in_len()) as u64 * elem;
        let cp = match &col {
            Some(col) => {
                im2col(inner, col, xp, &g, nl, groups, [groups * r * p, r * p, p])?;
                col.device_ptr()
            }
            None => xp,
        };
        let op = out.device_ptr() + (n0 * groups * o * p) as u64 * elem;
        // out[n, g] (o x p) = w[g] (o x r) * col[n, g] (r x p)
        let prod = Gemm {
            m: o,
            n: p,
            k: r,
            lda: r,
            ldb: p,
            ldc: p,
            stride_a: o * r,
            stride_b: r * p,
            stride_c: o * p,
            ..Default::default()
        };
        if groups == 1 {
            let prod = Gemm {
                batch: nl,
                stride_a: 0,
                ..prod
            };
            inner.gemm(x.dtype, &prod, w.device_ptr(), cp, op)?;
        } else {
            for i in 0..nl as u64 {
                let prod = Gemm {
                    batch: groups,
                    ..prod
                };
                let off = (i * (groups * r * p) as u64) * elem;
                let off_c = (i * (groups * o * p) as u64) * elem;
                inner.gemm(x.dtype, &prod, w.device_ptr(), cp + off, op + off_c)?;
            }
        }
    }
    Ok(out)
}

pub fn conv_transpose2d(
    inner: &Inner,
    (x, xs): (&CudaStorage, &Shape),
    (w, ws): (&CudaStorage, &Shape),
    spec: &ConvTranspose2dSpec,
) -> Result<CudaStorage> {
    let groups = spec.groups;
    let [ho, wo] = spec
        .output_hw([xs.dim(2), xs.dim(3)], [ws.dim(2), ws.dim(3)])
        .ok_or_else(|| inner.err("conv_transpose2d: invalid output size"))?;
    let (n, cin, cout) = (xs.dim(0), xs.dim(1) / groups, ws.dim(1));
    // Seen from the conv2d it is the adjoint of: that conv's input is our output.
    let g = geom(
        cout,
        ho,
        wo,
        [ws.dim(2), ws.dim(3)],
        spec.stride,
        spec.padding,
        [xs.dim(2), xs.dim(3)],
    );
    let (r, p) = (g.r(), g.p());
    let out_len = n * groups * g.in_len();
    if cin == 0 || p == 0 {
        return fill(inner, 0.0, out_len, x.dtype);
    }
    let out = inner.alloc(out_len, x.dtype)?;
    if out_len == 0 {
        return Ok(out);
    }
    let elem = x.dtype.size_in_bytes() as u64;
    let per_image = groups * r * p;
    let nc = chunk(per_image, elem as usize, n);
    let col = if g.pointwise() {
        None
    } else {
        Some(inner.alloc(nc * per_image, x.dtype)?)
    };
    for n0 in (0..n).step_by(nc) {
        let nl = nc.min(n - n0);
        let xp = x.device_ptr() + (n0 * groups * cin * p) as u64 * elem;
        let op = out.device_ptr() + (n0 * groups * g.in_len()) as u64 * elem;
        let cp = col.as_ref().map_or(op, |c| c.device_ptr());
        // col[n, g] (r x p) = w[g]^T (r x cin) * x[n, g] (cin x p)
        let prod = Gemm {
            trans_a: true,
            m: r,
            n: p,
            k: cin,
            lda: r,
            ldb: p,
            ldc: p,
            stride_a: cin * r,
            stride_b: cin * p,
            stride_c: r * p,
            ..Default::default()
        };
        if groups == 1 {
            let prod = Gemm {
                batch: nl,
                stride_a: 0,
                ..prod
            };
            inner.gemm(x.dtype, &prod, w.device_ptr(), xp, cp)?;
        } else {
            for i in 0..nl as u64 {
                let prod = Gemm {
                    batch: groups,
                    ..prod
                };
                let off_b = (i * (groups * cin * p) as u64) * elem;
                let off_c = (i * (groups * r * p) as u64) * elem;
                inner.gemm(x.dtype, &prod, w.device_ptr(), xp + off_b, cp + off_c)?;
            }
        }
        if let Some(col) = &col {
            let (dst, src, gg, igs) = (op, col.device_ptr(), g, (nl * groups) as u32);
            launch!(inner, kname("col2im", x.dtype), grid(nl * groups * g.in_len()); dst, src, gg, igs);
        }
    }
    Ok(out)
}

pub fn conv2d_weight_grad(
    inner: &Inner,
    (x, xs): (&CudaStorage, &Shape),
    (dy, dys): (&CudaStorage, &Shape),
    ws: &Shape,
    spec: &Conv2dSpec,
) -> Result<CudaStorage> {
    let groups = spec.groups;
    let (n, c, o) = (xs.dim(0), xs.dim(1) / groups, ws.dim(0) / groups);
    let g = geom(
        c,
        xs.dim(2),
        xs.dim(3),
        [ws.dim(2), ws.dim(3)],
        spec.stride,
        spec.padding,
        [dys.dim(2), dys.dim(3)],
    );
    let (r, p) = (g.r(), g.p());
    let w_len = groups * o * r;
    if n == 0 || p == 0 || w_len == 0 {
        return fill(inner, 0.0, w_len, x.dtype);
    }
    let out = inner.alloc(w_len, x.dtype)?;
    let elem = x.dtype.size_in_bytes() as u64;
    let per_image = groups * (r + o) * p;
    let nc = chunk(per_image, elem as usize, n);
    let col = inner.alloc(nc * groups * r * p, x.dtype)?;
    for n0 in (0..n).step_by(nc) {
        let nl = nc.min(n - n0);
        let k = nl * p;
        let xp = x.device_ptr() + (n0 * groups * g.in_len()) as u64 * elem;
        // Columns laid out [g][r][n][p], so that one product per group sums
        // over every image of the chunk: K = images x pixels.
        im2col(inner, &col, xp, &g, nl, groups, [p, r * k, k])?;
        let dy_chunk = dy.device_ptr() + (n0 * groups * o * p) as u64 * elem;
        // dy as [g][o][n][p]; a chunk of one image already is.
        let moved;
        let dyp = if nl == 1 {
            dy_chunk
        } else {
            let l = Layout::new(
                &[groups, o, nl, p],
                &[vec![
                    (o * p) as isize,
                    p as isize,
                    (groups * o * p) as isize,
                    1,
                ]],
                &[(n0 * groups * o * p) as isize],
            )
            .map_err(|e| inner.err(e))?;
            moved = copy_strided(inner, dy, groups * o * k, &l)?;
            moved.device_ptr()
        };
        // dw[g] (o x r) (+)= dy[g] (o x K) * col[g]^T (K x r)
        let prod = Gemm {
            trans_b: true,
            m: o,
            n: r,
            k,
            lda: k,
            ldb: k,
            ldc: r,
            stride_a: o * k,
            stride_b: r * k,
            stride_c: o * r,
            batch: groups,
            accumulate: n0 > 0,
            ..Default::default()
        };
        inner.gemm(x.dtype, &prod, dyp, col.device_ptr(), out.device_ptr())?;
    }
    Ok(out)
}
