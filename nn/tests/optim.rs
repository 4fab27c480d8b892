//! Adam against values computed by hand from PyTorch's update rule.

use tcgan_core::{DType, Tensor};
use tcgan_nn::optim::{sanitize_grads, Adam};
use tcgan_ops_cpu::cpu;

fn leaf(v: &[f64]) -> Tensor {
    Tensor::from_slice(v, [v.len()], &cpu())
        .unwrap()
        .requires_grad_(true)
        .unwrap()
}

#[test]
fn adam_follows_the_torch_update_rule() {
    let p = leaf(&[1.0, -2.0]);
    let (lr, b1, b2, eps) = (0.1, 0.5, 0.9, 1e-8);
    let mut opt = Adam::new(vec![p.clone()], lr, [b1, b2], eps);
    let grads = [[0.5, -1.0], [0.25, 3.0]];
    let (mut m, mut v, mut x) = ([0.0f64; 2], [0.0f64; 2], [1.0f64, -2.0]);
    for (t, g) in grads.iter().enumerate() {
        p.set_grad(Some(Tensor::from_slice(g, [2], &cpu()).unwrap()));
        opt.step().unwrap();
        let t = t as i32 + 1;
        for i in 0..2 {
            m[i] = b1 * m[i] + (1.0 - b1) * g[i];
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
            let denom = v[i].sqrt() / (1.0 - b2.powi(t)).sqrt() + eps;
            x[i] -= lr / (1.0 - b1.powi(t)) * m[i] / denom;
        }
        let got = p.to_vec_f64().unwrap();
        for i in 0..2 {
            assert!(
                (got[i] - x[i]).abs() < 1e-12,
                "step {t}: {} vs {}",
                got[i],
                x[i]
            );
        }
    }
    assert_eq!(opt.step, 2);
    assert!(p.requires_grad(), "an update keeps the parameter trainable");
}

#[test]
fn parameters_without_gradient_are_left_alone() {
    let a = leaf(&[1.0]);
    let b = leaf(&[2.0]);
    let mut opt = Adam::new(vec![a.clone(), b.clone()], 0.1, [0.0, 0.99], 1e-8);
    a.set_grad(Some(Tensor::ones([1], DType::F64, &cpu()).unwrap()));
    opt.step().unwrap();
    assert_ne!(a.to_vec_f64().unwrap(), [1.0]);
    assert_eq!(b.to_vec_f64().unwrap(), [2.0]);
    assert!(opt.state()[1].is_none());
}

#[test]
fn non_finite_gradients_are_replaced_and_counted() {
    let a = leaf(&[0.0; 4]);
    a.set_grad(Some(
        Tensor::from_slice(
            &[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 2e5],
            [4],
            &cpu(),
        )
        .unwrap(),
    ));
    assert_eq!(sanitize_grads(std::slice::from_ref(&a)).unwrap(), 3);
    assert_eq!(
        a.grad().unwrap().to_vec_f64().unwrap(),
        [0.0, 1e5, -1e5, 2e5]
    );
}
