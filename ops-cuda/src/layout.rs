//! Strided views for the elementwise and copy kernels: the output's dims and,
//! per operand, signed element strides and a start offset, with neighbouring
//! axes merged so that common cases need one to three dims.

use cudarc::driver::DeviceRepr;
use tcgan_core::Shape;

pub const MAX_DIMS: usize = 8;
pub const MAX_OPS: usize = 3;

/// Mirrors `struct Layout` of prelude.cuh.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    pub rank: i32,
    pub dims: [i32; MAX_DIMS],
    pub strides: [[i32; MAX_DIMS]; MAX_OPS],
    pub offsets: [i32; MAX_OPS],
}

// SAFETY: plain old data with the C layout of the kernel parameter.
unsafe impl DeviceRepr for Layout {}

/// Strides of `shape` read as `out` (trailing alignment), 0 on broadcast axes.
pub fn broadcast_strides(shape: &Shape, out: &Shape) -> Vec<isize> {
    let own = shape.strides();
    let off = out.rank() - shape.rank();
    (0..out.rank())
        .map(|i| {
            if i < off || shape.dim(i - off) == 1 {
                0
            } else {
                own[i - off] as isize
            }
        })
        .collect()
}

/// Contiguous strides of `shape`, signed.
pub fn contiguous_strides(shape: &Shape) -> Vec<isize> {
    shape.strides().into_iter().map(|s| s as isize).collect()
}

impl Layout {
    /// Drops size-1 axes and merges neighbours that every operand walks
    /// contiguously. `strides[k]` and `offsets[k]` describe operand k.
    pub fn new(
        dims: &[usize],
        strides: &[Vec<isize>],
        offsets: &[isize],
    ) -> Result<Layout, String> {
        let k = strides.len();
        assert!(k <= MAX_OPS && offsets.len() == k);
        let mut md: Vec<usize> = Vec::new();
        let mut ms: Vec<Vec<isize>> = vec![Vec::new(); k];
        for (i, &d) in dims.iter().enumerate() {
            if d == 1 {
                continue;
            }
            let mergeable = !md.is_empty()
                && (0..k).all(|o| ms[o][ms[o].len() - 1] == strides[o][i] * d as isize);
            if mergeable {
                *md.last_mut().unwrap() *= d;
                for o in 0..k {
                    *ms[o].last_mut().unwrap() = strides[o][i];
                }
            } else {
                md.push(d);
                for o in 0..k {
                    ms[o].push(strides[o][i]);
                }
            }
        }
        if md.is_empty() {
            md.push(1);
            for s in ms.iter_mut() {
                s.push(0);
            }
        }
        if md.len() > MAX_DIMS {
            return Err(format!(
                "{} dims remain after merging axes; the CUDA kernels take at most {MAX_DIMS}",
                md.len()
            ));
        }
        let fit = |v: isize| i32::try_from(v).map_err(|_| format!("offset {v} exceeds 2^31"));
        let mut l = Layout {
            rank: md.len() as i32,
            ..Default::default()
        };
        for (i, &d) in md.iter().enumerate() {
            l.dims[i] = fit(d as isize)?;
        }
        for (o, (s, &off)) in ms.iter().zip(offsets).enumerate() {
            for (i, &v) in s.iter().enumerate() {
                l.strides[o][i] = fit(v)?;
            }
            l.offsets[o] = fit(off)?;
        }
        Ok(l)
    }

    /// Whether operand k is read exactly in output order.
    pub fn is_contiguous(&self, k: usize) -> bool {
        self.rank == 1 && self.strides[k][0] == 1 && self.offsets[k] == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bias_broadcast_merges_to_three_dims() {
        let out = Shape::new([4, 3, 5, 5]);
        let b = Shape::new([1, 3, 1, 1]);
        let l = Layout::new(
            out.dims(),
            &[contiguous_strides(&out), broadcast_strides(&b, &out)],
            &[0, 0],
        )
        .unwrap();
        assert_eq!(l.rank, 3);
        assert_eq!(&l.dims[..3], &[4, 3, 25]);
        assert_eq!(&l.strides[0][..3], &[75, 25, 1]);
        assert_eq!(&l.strides[1][..3], &[0, 1, 0]);
    }

    #[test]
    fn same_shape_operands_are_contiguous() {
        let s = Shape::new([2, 3, 4]);
        let l = Layout::new(
            s.dims(),
            &[contiguous_strides(&s), contiguous_strides(&s)],
            &[0, 0],
        )
        .unwrap();
        assert!(l.is_contiguous(0) && l.is_contiguous(1));
    }

    #[test]
    fn flipped_axis_is_not_merged() {
        let l = Layout::new(&[2, 3], &[vec![3, -1]], &[2]).unwrap();
        assert_eq!(l.rank, 2);
        assert!(!l.is_contiguous(0));
    }

    #[test]
    fn all_size_one_is_one_element() {
        let l = Layout::new(&[1, 1], &[vec![1, 1]], &[0]).unwrap();
        assert_eq!((l.rank, l.dims[0], l.strides[0][0]), (1, 1, 0));
    }
}
