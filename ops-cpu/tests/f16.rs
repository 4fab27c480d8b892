//! f16 tensors as the mixed-precision blocks use them: every op reads f16 as
//! f32, computes in f32 and rounds its result once, so an f16 op equals the f32
//! op on the same (f16-exact) inputs rounded to f16, bit for bit; gradients of
//! f16 tensors are f16, also through a gradient (R1).

use tcgan_core::half::f16;
use tcgan_core::{grad, Activation, BiasActSpec, DType, Generator, Tensor, Upfirdn2dSpec};
use tcgan_ops_cpu::cpu;

/// An f16 tensor of N(0, 1) draws and the same values as f32.
fn pair(gen: &mut Generator, shape: &[usize]) -> (Tensor, Tensor) {
    let h = gen.normal(shape.to_vec(), DType::F16, &cpu()).unwrap();
    let f = h.to_dtype(DType::F32).unwrap();
    (h, f)
}

/// `got` (f16) holds exactly `want` (f32) rounded to f16.
fn assert_rounded(got: &Tensor, want: &Tensor, what: &str) {
    assert_eq!(got.dtype(), DType::F16, "{what}: result dtype");
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    let got = got.to_host().unwrap().into_f16();
    let want = want.to_vec_f32().unwrap();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            g.to_bits(),
            f16::from_f32(*w).to_bits(),
            "{what}: element {i}: {g} is not f32 {w} rounded"
        );
    }
}

#[test]
fn each_op_rounds_its_f32_result_once() {
    let mut gen = Generator::new(7);
    let (x, xf) = pair(&mut gen, &[2, 3, 6, 5]);
    let (w, wf) = pair(&mut gen, &[4, 3, 3, 3]);
    let (b, bf) = pair(&mut gen, &[4]);
    let conv = |x: &Tensor, w: &Tensor| x.conv2d(w, 1, 1, 1).unwrap();
    assert_rounded(&conv(&x, &w), &conv(&xf, &wf), "conv2d");

    let spec = BiasActSpec {
        clamp: Some(0.5),
        ..BiasActSpec::new(Activation::Lrelu)
    };
    let y = conv(&x, &w);
    let yf = y.to_dtype(DType::F32).unwrap();
    assert_rounded(
        &y.bias_act(Some(&b), 1, &spec).unwrap(),
        &yf.bias_act(Some(&bf), 1, &spec).unwrap(),
        "bias_act",
    );

    // The filter stays f32, as the official code keeps it.
    let fir = Tensor::from_vec(vec![0.125f32, 0.375, 0.375, 0.125], [4], &cpu()).unwrap();
    let up = Upfirdn2dSpec {
        up: [2, 2],
        down: [1, 1],
        pad: [2, 1, 2, 1],
        flip_filter: false,
        gain: 4.0,
    };
    assert_rounded(
        &x.upfirdn2d(&fir, &up).unwrap(),
        &xf.upfirdn2d(&fir, &up).unwrap(),
        "upfirdn2d",
    );

    let (m, mf) = pair(&mut gen, &[5, 7]);
    let (n, nf) = pair(&mut gen, &[7, 3]);
    assert_rounded(&m.matmul(&n).unwrap(), &mf.matmul(&nf).unwrap(), "matmul");
    assert_rounded(&x.sum_all().unwrap(), &xf.sum_all().unwrap(), "sum");
    assert_rounded(&x.mul(&x).unwrap(), &xf.mul(&xf).unwrap(), "mul");
    assert_rounded(&x.exp().unwrap(), &xf.exp().unwrap(), "exp");
}

#[test]
fn values_past_the_f16_range_become_infinite() {
    let x = Tensor::from_vec(vec![300.0f32, -300.0, 1.0], [3], &cpu())
        .unwrap()
        .to_dtype(DType::F16)
        .unwrap();
    let y = x.mul(&x).unwrap().to_vec_f32().unwrap();
    assert_eq!(y, [f32::INFINITY, f32::INFINITY, 1.0]);
}

#[test]
fn gradients_of_f16_tensors_are_f16_also_through_a_gradient() {
    let mut gen = Generator::new(11);
    let (x, _) = pair(&mut gen, &[2, 3, 5, 5]);
    let (w, _) = pair(&mut gen, &[3, 3, 3, 3]);
    // Scaled down so that the fourth-power terms stay inside the f16 range.
    let (x, w) = (x.mul_scalar(0.25).unwrap(), w.mul_scalar(0.25).unwrap());
    // An R1-style penalty, the squared input gradient, differentiated in w;
    // returns the gradient of x and that of w, on the values of x and w in `dtype`.
    let r1 = |dtype: DType| {
        let leaf = |t: &Tensor| {
            t.to_dtype(dtype)
                .unwrap()
                .detach()
                .requires_grad_(true)
                .unwrap()
        };
        let (x, w) = (leaf(&x), leaf(&w));
        let y = x.conv2d(&w, 1, 1, 1).unwrap().square().unwrap();
        let gx = grad(&[&y.sum_all().unwrap()], &[], &[&x], true)
            .unwrap()
            .remove(0);
        let penalty = gx.square().unwrap().sum_all().unwrap();
        let gw = grad(&[&penalty], &[], &[&w], false).unwrap().remove(0);
        (gx, gw)
    };
    let (gx, gw) = r1(DType::F16);
    assert_eq!(gx.dtype(), DType::F16);
    assert_eq!(gw.dtype(), DType::F16);
    assert_eq!(gw.dims(), w.dims());

    // The same in f32 on the same values: f16 rounding moves it by little.
    let (_, gwf) = r1(DType::F32);
    let (a, b) = (gw.to_vec_f32().unwrap(), gwf.to_vec_f32().unwrap());
    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (i, (a, b)) in a.iter().zip(&b).enumerate() {
        assert!(
            (a - b).abs() <= 1e-2 * scale,
            "element {i}: f16 {a} vs f32 {b} (scale {scale})"
        );
    }
}
