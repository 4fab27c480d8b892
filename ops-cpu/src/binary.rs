//! Kernels of the broadcasting elementwise functions of two and three tensors.

use crate::storage::{slice, uninit_vec, wrap, CpuElement};
use crate::strided::{broadcast_strides, for_each_row, merge_axes};
use tcgan_core::{BinaryOp, Result, Shape, Storage};

/// `out[i] = f(a[.], b[.])` with both operands broadcast to `out`.
fn zip_with<T: CpuElement>(
    a: &[T],
    a_shape: &Shape,
    b: &[T],
    b_shape: &Shape,
    out_shape: &Shape,
    f: impl Fn(T, T) -> T + Sync + Send,
) -> Vec<T> {
    let mut out = uninit_vec::<T>(out_shape.numel());
    let strides = [
        broadcast_strides(a_shape, out_shape),
        broadcast_strides(b_shape, out_shape),
    ];
    let (dims, strides) = merge_axes(out_shape.dims(), strides);
    for_each_row(&mut out, &dims, &strides, |row, [oa, ob], [sa, sb]| {
        let n = row.len();
        match (sa, sb) {
            (1, 1) => {
                for ((o, &x), &y) in row.iter_mut().zip(&a[oa..oa + n]).zip(&b[ob..ob + n]) {
                    *o = f(x, y);
                }
            }
            (1, 0) => {
                let y = b[ob];
                for (o, &x) in row.iter_mut().zip(&a[oa..oa + n]) {
                    *o = f(x, y);
                }
            }
            (0, 1) => {
                let x = a[oa];
                for (o, &y) in row.iter_mut().zip(&b[ob..ob + n]) {
                    *o = f(x, y);
                }
            }
            _ => {
                for (i, o) in row.iter_mut().enumerate() {
                    *o = f(a[oa + i * sa], b[ob + i * sb]);
                }
            }
        }
    });
    out
}

pub fn binary<T: CpuElement>(
    op: BinaryOp,
    (a, a_shape): (&Storage, &Shape),
    (b, b_shape): (&Storage, &Shape),
    out: &Shape,
) -> Result<Storage> {
    let (a, b) = (slice::<T>(a)?, slice::<T>(b)?);
    let (zero, one) = (T::zero(), T::one());
    let flag = move |c: bool| if c { one } else { zero };
    // A macro, not a closure taking `&dyn Fn`: each operation gets its own
    // monomorphised loop with no indirect call per element.
    macro_rules! z {
        ($f:expr) => {
            zip_with(a, a_shape, b, b_shape, out, $f)
        };
    }
    use BinaryOp::*;
    let v = match op {
        Add => z!(|x, y| x + y),
        Sub => z!(|x, y| x - y),
        Mul => z!(|x, y| x * y),
        Div => z!(|x, y| x / y),
        // NaN propagates, as torch.maximum does.
        Maximum => z!(|x, y| if x.is_nan() || x > y { x } else { y }),
        Minimum => z!(|x, y| if x.is_nan() || x < y { x } else { y }),
        Pow => z!(|x, y| x.powf(y)),
        Gt => z!(|x, y| flag(x > y)),
        Ge => z!(|x, y| flag(x >= y)),
        Lt => z!(|x, y| flag(x < y)),
        Le => z!(|x, y| flag(x <= y)),
        Eq => z!(|x, y| flag(x == y)),
        Ne => z!(|x, y| flag(x != y)),
    };
    Ok(wrap(v))
}

pub fn where_cond<T: CpuElement>(
    (c, c_shape): (&Storage, &Shape),
    (a, a_shape): (&Storage, &Shape),
    (b, b_shape): (&Storage, &Shape),
    out_shape: &Shape,
) -> Result<Storage> {
    let (c, a, b) = (slice::<T>(c)?, slice::<T>(a)?, slice::<T>(b)?);
    let mut out = uninit_vec::<T>(out_shape.numel());
    let strides = [
        broadcast_strides(c_shape, out_shape),
        broadcast_strides(a_shape, out_shape),
        broadcast_strides(b_shape, out_shape),
    ];
    let (dims, strides) = merge_axes(out_shape.dims(), strides);
    let zero = T::zero();
    for_each_row(
        &mut out,
        &dims,
        &strides,
        |row, [oc, oa, ob], [sc, sa, sb]| {
            for (i, o) in row.iter_mut().enumerate() {
                *o = if c[oc + i * sc] != zero {
                    a[oa + i * sa]
                } else {
                    b[ob + i * sb]
                };
            }
        },
    );
    Ok(wrap(out))
}
