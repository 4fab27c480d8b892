//! Behaviour of tensors and autograd as a PyTorch user expects it: broadcasting,
//! shape errors that name both shapes, RNG reproducibility, no_grad, detach,
//! accumulation into leaves, gradients with respect to intermediate tensors.

use tcgan_core::{backward, grad, no_grad, DType, Error, Generator, Tensor};
use tcgan_ops_cpu::cpu;

fn t(v: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_slice(v, shape.to_vec(), &cpu()).unwrap()
}

fn param(v: &[f32], shape: &[usize]) -> Tensor {
    t(v, shape).requires_grad_(true).unwrap()
}

#[test]
fn broadcasting_follows_numpy_rules() {
    let a = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let row = t(&[10., 20., 30.], &[3]);
    let col = t(&[100., 200.], &[2, 1]);
    assert_eq!(
        a.add(&row).unwrap().to_vec_f32().unwrap(),
        [11., 22., 33., 14., 25., 36.]
    );
    assert_eq!(
        a.add(&col).unwrap().to_vec_f32().unwrap(),
        [101., 102., 103., 204., 205., 206.]
    );
    // [2,1] with [3] -> [2,3]
    let outer = col.mul(&row).unwrap();
    assert_eq!(outer.dims(), [2, 3]);
    assert_eq!(
        outer.to_vec_f32().unwrap(),
        [1000., 2000., 3000., 2000., 4000., 6000.]
    );
    // Scalars broadcast to anything.
    let s = Tensor::scalar(2.0, DType::F32, &cpu()).unwrap();
    assert_eq!(
        a.sub(&s).unwrap().to_vec_f32().unwrap(),
        [-1., 0., 1., 2., 3., 4.]
    );
    // Broadcasting in a middle axis of rank 4 (bias per channel).
    let x = Tensor::ones([2, 3, 2, 2], DType::F32, &cpu()).unwrap();
    let b = t(&[1., 2., 3.], &[1, 3, 1, 1]);
    let y = x.mul(&b).unwrap().sum(&[0, 2, 3]).unwrap();
    assert_eq!(y.to_vec_f32().unwrap(), [8., 16., 24.]);
}

#[test]
fn broadcast_gradients_sum_over_broadcast_axes() {
    let a = param(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let b = param(&[1., 1., 1.], &[3]);
    let y = a.mul(&b).unwrap().sum_all().unwrap();
    let g = grad(&[&y], &[], &[&a, &b], false).unwrap();
    assert_eq!(g[0].to_vec_f32().unwrap(), [1.; 6]);
    assert_eq!(g[1].to_vec_f32().unwrap(), [5., 7., 9.]);
}

#[test]
fn shape_errors_name_both_shapes_and_never_panic() {
    let a = t(&[0.; 6], &[2, 3]);
    let b = t(&[0.; 8], &[2, 4]);
    let msg = a.add(&b).unwrap_err().to_string();
    assert!(msg.contains("[2, 3]") && msg.contains("[2, 4]"), "{msg}");
    let msg = a.matmul(&b).unwrap_err().to_string();
    assert!(msg.contains("[2, 3]") && msg.contains("[2, 4]"), "{msg}");
    assert!(matches!(
        a.reshape([4, 2]),
        Err(Error::ShapeMismatch { .. })
    ));
    let x = Tensor::zeros([1, 3, 8, 8], DType::F32, &cpu()).unwrap();
    let w = Tensor::zeros([4, 2, 3, 3], DType::F32, &cpu()).unwrap();
    let msg = x.conv2d(&w, 1, 1, 1).unwrap_err().to_string();
    assert!(
        msg.contains("[1, 3, 8, 8]") && msg.contains("[4, 2, 3, 3]"),
        "{msg}"
    );
    assert!(a.narrow(1, 2, 2).is_err());
    assert!(a.permute(&[0, 0]).is_err());
    assert!(a.sum(&[2]).is_err());
    assert!(a.index_select(0, &[2]).is_err());
    assert!(Tensor::concat(&[&a, &b], 0).is_err());
    assert!(a.pad(&[(0, 0), (-2, -2)]).is_err());
    let d = a.to_dtype(DType::F64).unwrap();
    assert!(matches!(a.add(&d), Err(Error::DTypeMismatch { .. })));
    assert!(Tensor::from_vec(vec![1f32, 2.], [3], &cpu()).is_err());
    // Inputs PyTorch refuses, which a kernel would read out of bounds.
    let w1 = Tensor::zeros([3, 2, 1, 1], DType::F32, &cpu()).unwrap();
    let msg = x.conv_transpose2d(&w1, 1, 0, 1, 1).unwrap_err().to_string();
    assert!(
        msg.contains("output_padding must be smaller than stride"),
        "{msg}"
    );
    assert!(x.conv_transpose2d(&w1, 2, 0, 1, 1).is_ok());
    let empty = Tensor::zeros([1, 3, 0, 8], DType::F32, &cpu()).unwrap();
    let grid = Tensor::zeros([1, 2, 2, 2], DType::F32, &cpu()).unwrap();
    let spec = tcgan_core::GridSampleSpec {
        padding: tcgan_core::GridPadding::Zeros,
        align_corners: false,
    };
    let msg = empty.grid_sample(&grid, &spec).unwrap_err().to_string();
    assert!(msg.contains("empty H x W plane"), "{msg}");
}

#[test]
fn rng_is_reproducible_and_seed_dependent() {
    let dev = cpu();
    let a = Generator::new(42).normal([4, 5], DType::F32, &dev).unwrap();
    let b = Generator::new(42).normal([4, 5], DType::F32, &dev).unwrap();
    let c = Generator::new(43).normal([4, 5], DType::F32, &dev).unwrap();
    assert_eq!(a.to_vec_f32().unwrap(), b.to_vec_f32().unwrap());
    assert_ne!(a.to_vec_f32().unwrap(), c.to_vec_f32().unwrap());
    let u = Generator::new(1)
        .uniform([1000], -2.0, 3.0, DType::F64, &dev)
        .unwrap();
    let v = u.to_vec_f64().unwrap();
    assert!(v.iter().all(|&x| (-2.0..3.0).contains(&x)));
}

#[test]
fn no_grad_and_detach_record_nothing() {
    let w = param(&[1., 2.], &[2]);
    let y = no_grad(|| w.mul(&w).unwrap());
    assert!(!y.requires_grad());
    let z = w.mul(&w).unwrap();
    assert!(z.requires_grad());
    assert!(!z.detach().requires_grad());
    assert!(
        z.set_requires_grad(false).is_err(),
        "only leaves can change requires_grad"
    );
    assert!(grad(&[&y.sum_all().unwrap()], &[], &[&w], false).is_err());
}

#[test]
fn backward_accumulates_into_leaves() {
    let w = param(&[1., 2., 3.], &[3]);
    for _ in 0..2 {
        let l = w.square().unwrap().sum_all().unwrap();
        l.backward().unwrap();
    }
    assert_eq!(w.grad().unwrap().to_vec_f32().unwrap(), [4., 8., 12.]);
    w.zero_grad();
    assert!(w.grad().is_none());
    // A leaf used twice receives the sum of both paths.
    let l = w.mul(&w).unwrap().add(&w).unwrap().sum_all().unwrap();
    backward(&l, None, false).unwrap();
    assert_eq!(w.grad().unwrap().to_vec_f32().unwrap(), [3., 5., 7.]);
    // Leaves that do not require grad get nothing.
    let c = t(&[1., 1., 1.], &[3]);
    let l = w.mul(&c).unwrap().sum_all().unwrap();
    l.backward().unwrap();
    assert!(c.grad().is_none());
}

#[test]
fn gradient_with_respect_to_an_intermediate_tensor() {
    // Path-length regularization differentiates the image w.r.t. the ws, which
    // are an output of the mapping network, not a leaf.
    let z = param(&[0.5, -1.0], &[2]);
    let ws = z.mul_scalar(3.0).unwrap();
    let img = ws.square().unwrap();
    let g = grad(&[&img.sum_all().unwrap()], &[], &[&ws], true).unwrap();
    assert_eq!(g[0].to_vec_f32().unwrap(), [3.0, -6.0]);
    // ...and that gradient is differentiable w.r.t. z: d/dz sum(2 * 3z) = 6.
    let g2 = grad(&[&g[0].sum_all().unwrap()], &[], &[&z], false).unwrap();
    assert_eq!(g2[0].to_vec_f32().unwrap(), [6.0, 6.0]);
    // Unused inputs get zeros rather than an error.
    let other = param(&[1.0], &[1]);
    let g = grad(&[&img.sum_all().unwrap()], &[], &[&other], false).unwrap();
    assert_eq!(g[0].to_vec_f32().unwrap(), [0.0]);
}

#[test]
fn r1_style_double_backward_reaches_parameters() {
    // D(x) = sum(w * x^2); R1 = |dD/dx|^2 = sum((2 w x)^2); dR1/dw = 8 w x^2.
    let w = param(&[0.5, -2.0], &[2]);
    let x = param(&[1.5, 3.0], &[2]);
    let d = w.mul(&x.square().unwrap()).unwrap().sum_all().unwrap();
    let gx = grad(&[&d], &[], &[&x], true).unwrap();
    let r1 = gx[0].square().unwrap().sum_all().unwrap();
    r1.backward().unwrap();
    let expect: Vec<f32> = [(0.5f32, 1.5f32), (-2.0, 3.0)]
        .iter()
        .map(|(w, x)| 8.0 * w * x * x)
        .collect();
    assert_eq!(w.grad().unwrap().to_vec_f32().unwrap(), expect);
}

#[test]
fn set_data_replaces_the_value_of_a_parameter() {
    let w = param(&[1., 2.], &[2]);
    w.set_data(&t(&[5., 6.], &[2])).unwrap();
    assert_eq!(w.to_vec_f32().unwrap(), [5., 6.]);
    assert!(w.requires_grad());
    assert!(w.set_data(&t(&[1.], &[1])).is_err());
}

#[test]
fn reductions_are_accurate_and_thread_count_independent() {
    // 1e6 values of 0.1: a naive running f32 sum drifts by ~1e-3 relative.
    let n = 1_000_000;
    let x = Tensor::full(0.1, [n], DType::F32, &cpu()).unwrap();
    let s = x.sum_all().unwrap().to_scalar().unwrap();
    assert!((s - 100_000.0).abs() / 100_000.0 < 1e-5, "sum {s}");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let x = Generator::new(5)
        .normal([64, 300, 7], DType::F32, &cpu())
        .unwrap();
    let a = x.sum(&[0, 2]).unwrap().to_vec_f32().unwrap();
    let b = pool.install(|| x.sum(&[0, 2]).unwrap().to_vec_f32().unwrap());
    assert_eq!(a, b);
}

#[test]
fn convolution_is_thread_count_independent() {
    let dev = cpu();
    let mut g = Generator::new(9);
    let x = g
        .normal([6, 8, 9, 9], DType::F32, &dev)
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let w = g
        .normal([16, 8, 3, 3], DType::F32, &dev)
        .unwrap()
        .requires_grad_(true)
        .unwrap();
    let run = || {
        let y = x.conv2d(&w, 1, 1, 1).unwrap();
        let gs = grad(
            &[&y.square().unwrap().sum_all().unwrap()],
            &[],
            &[&x, &w],
            false,
        )
        .unwrap();
        (
            y.to_vec_f32().unwrap(),
            gs[0].to_vec_f32().unwrap(),
            gs[1].to_vec_f32().unwrap(),
        )
    };
    let many = run();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(run);
    let three = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap()
        .install(run);
    assert!(many == one && one == three);
}

#[test]
fn conv_matches_a_direct_loop() {
    let dev = cpu();
    let mut g = Generator::new(3);
    let (n, c, h, w, o, k, s, p) = (2, 3, 7, 6, 4, 3, 2, 1);
    let x = g.normal([n, c, h, w], DType::F64, &dev).unwrap();
    let wt = g.normal([o, c, k, k], DType::F64, &dev).unwrap();
    let y = x.conv2d(&wt, s, p, 1).unwrap();
    let (xv, wv, yv) = (
        x.to_vec_f64().unwrap(),
        wt.to_vec_f64().unwrap(),
        y.to_vec_f64().unwrap(),
    );
    let (ho, wo) = (y.dim(2), y.dim(3));
    assert_eq!((ho, wo), ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1));
    for b in 0..n {
        for oc in 0..o {
            for oy in 0..ho {
                for ox in 0..wo {
                    let mut acc = 0.0;
                    for ic in 0..c {
                        for ky in 0..k {
                            for kx in 0..k {
                                let iy = (oy * s + ky) as isize - p as isize;
                                let ix = (ox * s + kx) as isize - p as isize;
                                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                    acc += xv[((b * c + ic) * h + iy as usize) * w + ix as usize]
                                        * wv[((oc * c + ic) * k + ky) * k + kx];
                                }
                            }
                        }
                    }
                    let got = yv[((b * o + oc) * ho + oy) * wo + ox];
                    assert!((got - acc).abs() < 1e-12, "{got} vs {acc}");
                }
            }
        }
    }
}

#[test]
fn grid_sample_follows_torch_semantics() {
    use tcgan_core::{GridPadding, GridSampleSpec};
    let zeros = GridSampleSpec {
        padding: GridPadding::Zeros,
        align_corners: false,
    };
    let border = GridSampleSpec {
        padding: GridPadding::Border,
        align_corners: false,
    };
    // 1x1x2x2 input [[1, 2], [3, 4]].
    let x = t(&[1., 2., 3., 4.], &[1, 1, 2, 2]);
    // The identity grid (pixel centres, align_corners=False) reproduces the input.
    let c = 0.5f32;
    let ident = t(&[-c, -c, c, -c, -c, c, c, c], &[1, 2, 2, 2]);
    assert_eq!(
        x.grid_sample(&ident, &zeros).unwrap().to_vec_f32().unwrap(),
        [1., 2., 3., 4.]
    );
    // The centre of the image averages the four pixels.
    let centre = t(&[0., 0.], &[1, 1, 1, 2]);
    assert_eq!(
        x.grid_sample(&centre, &zeros)
            .unwrap()
            .to_vec_f32()
            .unwrap(),
        [2.5]
    );
    // Far outside: zeros gives 0, border gives the nearest border pixel.
    let far = t(&[5., 5.], &[1, 1, 1, 2]);
    assert_eq!(
        x.grid_sample(&far, &zeros).unwrap().to_vec_f32().unwrap(),
        [0.]
    );
    assert_eq!(
        x.grid_sample(&far, &border).unwrap().to_vec_f32().unwrap(),
        [4.]
    );
    // Half a pixel beyond the right edge with zero padding: half of the edge value.
    let edge = t(&[1., -c], &[1, 1, 1, 2]);
    assert_eq!(
        x.grid_sample(&edge, &zeros).unwrap().to_vec_f32().unwrap(),
        [1.0]
    );
    // The grid may not require grad.
    let g = ident.detach().requires_grad_(true).unwrap();
    assert!(x.grid_sample(&g, &zeros).is_err());
}

#[test]
fn pooling_matches_pytorch_semantics() {
    // 3x3 plane 1..9.
    let x = t(&[1., 2., 3., 4., 5., 6., 7., 8., 9.], &[1, 1, 3, 3]);
    // count_include_pad=False: the corner window holds 1,2,4,5 -> 3.
    let a = x.avg_pool2d(3, 1, 1, false).unwrap().to_vec_f32().unwrap();
    assert_eq!(a[0], 3.0);
    assert_eq!(a[4], 5.0);
    // count_include_pad=True divides by 9 everywhere: (1+2+4+5)/9.
    let b = x.avg_pool2d(3, 1, 1, true).unwrap().to_vec_f32().unwrap();
    assert!((b[0] - 12.0 / 9.0).abs() < 1e-6);
    // Max with padding: padding never wins, even against negatives.
    let neg = x.neg().unwrap();
    let m = neg.max_pool2d(3, 1, 1).unwrap().to_vec_f32().unwrap();
    assert_eq!(m, [-1., -1., -2., -1., -1., -2., -4., -4., -5.]);
    let m2 = x.max_pool2d(3, 2, 0).unwrap();
    assert_eq!(m2.dims(), [1, 1, 1, 1]);
    assert_eq!(m2.to_vec_f32().unwrap(), [9.]);
    // 8x8/8 global average of a [1, 2, 8, 8] input.
    let big = Tensor::from_vec(
        (0..128).map(|v| v as f32).collect::<Vec<_>>(),
        [1, 2, 8, 8],
        &cpu(),
    )
    .unwrap();
    let g = big.avg_pool2d(8, 8, 0, true).unwrap().to_vec_f32().unwrap();
    assert_eq!(g, [31.5, 95.5]);
    // Invalid windows are errors, not panics.
    assert!(x.max_pool2d(5, 1, 0).is_err());
    assert!(x.max_pool2d(3, 1, 2).is_err());
}

#[test]
fn max_pool_gradient_goes_to_the_first_maximum() {
    let x = param(&[1., 5., 5., 2.], &[1, 1, 2, 2]);
    let y = x.max_pool2d(2, 2, 0).unwrap();
    y.sum_all().unwrap().backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec_f32().unwrap(), [0., 1., 0., 0.]);
}
