//! Homogeneous transformation matrices on the host: 3x3 for 2-D pixel
//! coordinates (the geometric augmentations) and 4x4 for RGB colours (the
//! colour augmentations), with the official builders and their inverses.

/// A 2-D homogeneous transform acting on `[x, y, 1]`.
pub type Mat3 = [[f64; 3]; 3];
/// A 3-D homogeneous transform acting on `[r, g, b, 1]`.
pub type Mat4 = [[f64; 4]; 4];

pub fn identity<const N: usize>() -> [[f64; N]; N] {
    let mut m = [[0.0; N]; N];
    for (i, row) in m.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    m
}

/// `a @ b`.
pub fn matmul<const N: usize>(a: &[[f64; N]; N], b: &[[f64; N]; N]) -> [[f64; N]; N] {
    let mut c = [[0.0; N]; N];
    for i in 0..N {
        for j in 0..N {
            c[i][j] = (0..N).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    c
}

/// `m @ v` for a column vector `v`.
pub fn apply3(m: &Mat3, v: [f64; 3]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (o, row) in out.iter_mut().zip(m) {
        *o = row.iter().zip(&v).map(|(a, b)| a * b).sum();
    }
    out
}

pub fn translate2d(tx: f64, ty: f64) -> Mat3 {
    [[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]]
}

pub fn translate2d_inv(tx: f64, ty: f64) -> Mat3 {
    translate2d(-tx, -ty)
}

pub fn scale2d(sx: f64, sy: f64) -> Mat3 {
    [[sx, 0.0, 0.0], [0.0, sy, 0.0], [0.0, 0.0, 1.0]]
}

pub fn scale2d_inv(sx: f64, sy: f64) -> Mat3 {
    scale2d(1.0 / sx, 1.0 / sy)
}

/// Rotation by `theta` radians (counter-clockwise in a y-up frame).
pub fn rotate2d(theta: f64) -> Mat3 {
    let (s, c) = theta.sin_cos();
    [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
}

pub fn rotate2d_inv(theta: f64) -> Mat3 {
    rotate2d(-theta)
}

/// `rotate2d(pi / 2 * quarters)` with exact zeros and ones: in floating point
/// `cos(pi / 2)` is not 0, and that residue would reach the `ceil` of the
/// padding computation of a pure blit.
pub fn rotate2d_quarters(quarters: i64) -> Mat3 {
    let (s, c) = match quarters.rem_euclid(4) {
        0 => (0.0, 1.0),
        1 => (1.0, 0.0),
        2 => (0.0, -1.0),
        _ => (-1.0, 0.0),
    };
    [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
}

pub fn translate3d(tx: f64, ty: f64, tz: f64) -> Mat4 {
    [
        [1.0, 0.0, 0.0, tx],
        [0.0, 1.0, 0.0, ty],
        [0.0, 0.0, 1.0, tz],
        [0.0, 0.0, 0.0, 1.0],
    ]
}

pub fn scale3d(sx: f64, sy: f64, sz: f64) -> Mat4 {
    [
        [sx, 0.0, 0.0, 0.0],
        [0.0, sy, 0.0, 0.0],
        [0.0, 0.0, sz, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
}

/// Rotation by `theta` about the unit axis `v` (Rodrigues' formula).
pub fn rotate3d(v: [f64; 3], theta: f64) -> Mat4 {
    let [vx, vy, vz] = v;
    let (s, c) = theta.sin_cos();
    let cc = 1.0 - c;
    [
        [
            vx * vx * cc + c,
            vx * vy * cc - vz * s,
            vx * vz * cc + vy * s,
            0.0,
        ],
        [
            vy * vx * cc + vz * s,
            vy * vy * cc + c,
            vy * vz * cc - vx * s,
            0.0,
        ],
        [
            vz * vx * cc - vy * s,
            vz * vy * cc + vx * s,
            vz * vz * cc + c,
            0.0,
        ],
        [0.0, 0.0, 0.0, 1.0],
    ]
}

/// The luma axis `[1, 1, 1, 0] / sqrt(3)` of the colour transforms.
pub fn luma_axis() -> [f64; 4] {
    let a = 1.0 / 3f64.sqrt();
    [a, a, a, 0.0]
}

/// `v v^T`.
pub fn outer4(v: [f64; 4]) -> Mat4 {
    let mut m = [[0.0; 4]; 4];
    for i in 0..4 {
        for j in 0..4 {
            m[i][j] = v[i] * v[j];
        }
    }
    m
}

/// `a + b * s` elementwise.
pub fn add_scaled4(a: &Mat4, b: &Mat4, s: f64) -> Mat4 {
    let mut m = *a;
    for i in 0..4 {
        for j in 0..4 {
            m[i][j] += b[i][j] * s;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close<const N: usize>(a: &[[f64; N]; N], b: &[[f64; N]; N]) -> bool {
        a.iter()
            .flatten()
            .zip(b.iter().flatten())
            .all(|(x, y)| (x - y).abs() < 1e-12)
    }

    #[test]
    fn inverses_undo_their_transforms() {
        let i3: Mat3 = identity();
        assert!(close(
            &matmul(&translate2d(3.0, -2.0), &translate2d_inv(3.0, -2.0)),
            &i3
        ));
        assert!(close(
            &matmul(&scale2d(2.0, 0.5), &scale2d_inv(2.0, 0.5)),
            &i3
        ));
        assert!(close(&matmul(&rotate2d(0.7), &rotate2d_inv(0.7)), &i3));
        for q in -4..8 {
            let exact = rotate2d_quarters(q);
            assert!(close(
                &exact,
                &rotate2d(std::f64::consts::FRAC_PI_2 * q as f64)
            ));
        }
    }

    #[test]
    fn rotation_about_the_luma_axis_keeps_grey_grey() {
        let v = luma_axis();
        let r = rotate3d([v[0], v[1], v[2]], 1.1);
        for row in &r[..3] {
            let sum: f64 = row[..3].iter().sum();
            assert!((sum - 1.0).abs() < 1e-12, "a grey input stays grey: {sum}");
        }
        // Householder reflection about the luma axis is an involution.
        let h = add_scaled4(&identity(), &outer4(v), -2.0);
        assert!(close(&matmul(&h, &h), &identity()));
    }
}
