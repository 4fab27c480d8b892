//! upfirdn2d: upsample, pad or crop, FIR-filter, downsample (see upfirdn2d.cu);
//! a separable filter runs as a pass along x, then one along y.

use crate::device::{grid, kname, launch, Inner};
use crate::kernels::{float_kernels, no_defines, KernelSource};
use crate::storage::CudaStorage;
use cudarc::driver::DeviceRepr;
use tcgan_core::{Result, Shape, Upfirdn2dSpec};

pub const SOURCE: KernelSource = KernelSource {
    name: "upfirdn2d",
    code: include_str!("upfirdn2d.cu"),
    kernels: float_kernels!("upfirdn2d"),
    defines: no_defines,
};

/// Mirrors `struct UpfirdnParams` of upfirdn2d.cu.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct UpfirdnParams {
    h: i32,
    w: i32,
    oh: i32,
    ow: i32,
    fh: i32,
    fw: i32,
    upx: i32,
    upy: i32,
    downx: i32,
    downy: i32,
    px0: i32,
    py0: i32,
    flip: i32,
}

// SAFETY: a plain #[repr(C)] struct of i32s, laid out as the kernel's struct.
unsafe impl DeviceRepr for UpfirdnParams {}

/// Sizes the kernel indexes stay below this, so that its `int` arithmetic
/// (an output row times `down` minus a padding, plus a tap) cannot overflow.
const MAX_EXTENT: i128 = 1 << 30;

/// One pass over `planes` planes of `[h, w]`: the filter `[fh, fw]`, `up`,
/// `down` as `[x, y]`, `pad` as `[x0, x1, y0, y1]`.
struct Pass {
    fhw: [usize; 2],
    up: [usize; 2],
    down: [usize; 2],
    pad: [isize; 4],
    flip: bool,
    gain: f64,
}

impl Pass {
    fn params(&self, inner: &Inner, hw: [usize; 2]) -> Result<UpfirdnParams> {
        let bad = |why: &str| {
            inner.err(format!(
                "upfirdn2d: {why} (plane {hw:?}, filter {:?}, up {:?}, down {:?}, pad {:?})",
                self.fhw, self.up, self.down, self.pad
            ))
        };
        // i128: products of two sizes cannot overflow before the check.
        let [h, w] = hw.map(|v| v as i128);
        let [fh, fw] = self.fhw.map(|v| v as i128);
        let [upx, upy] = self.up.map(|v| v as i128);
        let [downx, downy] = self.down.map(|v| v as i128);
        let [px0, px1, py0, py1] = self.pad.map(|v| v as i128);
        if upx < 1 || upy < 1 || downx < 1 || downy < 1 || fh < 1 || fw < 1 {
            return Err(bad("factors and filter sizes must be at least 1"));
        }
        let (ph, pw) = (h * upy + py0 + py1, w * upx + px0 + px1);
        let extents = [
            h * upy,
            w * upx,
            px0,
            px1,
            py0,
            py1,
            ph,
            pw,
            downx,
            downy,
            fh,
            fw,
        ];
        if extents.iter().any(|v| v.abs() >= MAX_EXTENT) {
            return Err(bad("too large for 32-bit indexing"));
        }
        if ph < fh || pw < fw {
            return Err(bad("the padded plane is smaller than the filter"));
        }
        let i = |v: i128| v as i32;
        Ok(UpfirdnParams {
            h: i(h),
            w: i(w),
            oh: i((ph - fh) / downy + 1),
            ow: i((pw - fw) / downx + 1),
            fh: i(fh),
            fw: i(fw),
            upx: i(upx),
            upy: i(upy),
            downx: i(downx),
            downy: i(downy),
            px0: i(px0),
            py0: i(py0),
            flip: self.flip as i32,
        })
    }

    /// Runs the pass; returns the output and its `[h, w]`.
    fn run(
        &self,
        inner: &Inner,
        x: &CudaStorage,
        planes: usize,
        hw: [usize; 2],
        f: &CudaStorage,
    ) -> Result<(CudaStorage, [usize; 2])> {
        let p = self.params(inner, hw)?;
        let out_hw = [p.oh as usize, p.ow as usize];
        let n = planes.checked_mul(out_hw[0] * out_hw[1]).ok_or_else(|| {
            inner.err(format!(
                "upfirdn2d: {planes} planes of {out_hw:?} are too many"
            ))
        })?;
        let out = inner.alloc(n, x.dtype)?;
        if n > 0 {
            let (o, xp, fp, n32, gain) = (
                out.device_ptr(),
                x.device_ptr(),
                f.device_ptr(),
                n as u32,
                self.gain,
            );
            launch!(inner, kname("upfirdn2d", x.dtype), grid(n); o, xp, fp, n32, p, gain);
        }
        Ok((out, out_hw))
    }
}

pub fn upfirdn2d(
    inner: &Inner,
    (x, xs): (&CudaStorage, &Shape),
    (f, fs): (&CudaStorage, &Shape),
    spec: &Upfirdn2dSpec,
) -> Result<CudaStorage> {
    if xs.rank() != 4 || x.len != xs.numel() || !(fs.rank() == 1 || fs.rank() == 2) {
        return Err(inner.err(format!(
            "upfirdn2d: needs x [N, C, H, W] and a filter [fh, fw] or [taps], got {xs} and {fs}"
        )));
    }
    if f.len != fs.numel() || f.dtype != x.dtype {
        return Err(inner.err(format!(
            "upfirdn2d: the filter {f:?} does not hold {fs} values of the input's dtype"
        )));
    }
    let (planes, hw) = (xs.dim(0) * xs.dim(1), [xs.dim(2), xs.dim(3)]);
    if fs.rank() == 2 {
        let pass = Pass {
            fhw: [fs.dim(0), fs.dim(1)],
            up: spec.up,
            down: spec.down,
            pad: spec.pad,
            flip: spec.flip_filter,
            gain: spec.gain,
        };
        return Ok(pass.run(inner, x, planes, hw, f)?.0);
    }
    // Separable: each pass scaled by sqrt(gain), as the CPU backend does.
    let taps = fs.dim(0);
    let [px0, px1, py0, py1] = spec.pad;
    let along_x = Pass {
        fhw: [1, taps],
        up: [spec.up[0], 1],
        down: [spec.down[0], 1],
        pad: [px0, px1, 0, 0],
        flip: spec.flip_filter,
        gain: spec.gain.sqrt(),
    };
    let (tmp, hw1) = along_x.run(inner, x, planes, hw, f)?;
    let along_y = Pass {
        fhw: [taps, 1],
        up: [1, spec.up[1]],
        down: [1, spec.down[1]],
        pad: [0, 0, py0, py1],
        flip: spec.flip_filter,
        gain: spec.gain.sqrt(),
    };
    Ok(along_y.run(inner, &tmp, planes, hw1, f)?.0)
}
