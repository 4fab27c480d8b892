//! The in-process collective (ranks as threads): sums and means come out
//! identical on every rank and equal to the sum in rank order, broadcast
//! copies the root's values, mismatched calls and departed ranks are errors
//! rather than hangs. Also the torchrun-style environment parsing.

use std::collections::HashMap;
use std::thread;
use tcgan_core::{Collective, DistEnv, InProcessGroup, SingleRank, Tensor};
use tcgan_ops_cpu::cpu;

fn tensor(v: Vec<f32>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape.to_vec(), &cpu()).unwrap()
}

/// Runs `f(rank, handle)` on one thread per rank and collects the results by rank.
fn on_ranks<R: Send + 'static>(
    world: usize,
    f: impl Fn(usize, tcgan_core::InProcessRank) -> R + Send + Sync + Copy + 'static,
) -> Vec<R> {
    let handles: Vec<_> = InProcessGroup::ranks(world)
        .into_iter()
        .enumerate()
        .map(|(r, c)| thread::spawn(move || f(r, c)))
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// Values that do not sum exactly in f32, so the order of addition shows.
fn values(rank: usize, round: usize) -> Vec<f32> {
    (0..7)
        .map(|i| {
            (0.1 + rank as f32 * 1e-3 + i as f32 * 1.7e7 + round as f32 * 0.37)
                .powi(if i % 2 == 0 { 1 } else { -1 })
        })
        .collect()
}

#[test]
fn sum_is_identical_on_every_rank_and_in_rank_order() {
    const WORLD: usize = 4;
    let out = on_ranks(WORLD, |rank, c| {
        (0..20)
            .map(|round| {
                let a = tensor(values(rank, round), &[7]);
                let b = tensor(vec![rank as f32; 6], &[2, 3]);
                let r = c.all_reduce_sum(&[a, b]).unwrap();
                assert_eq!(r[1].dims(), &[2, 3]);
                (r[0].to_vec_f32().unwrap(), r[1].to_vec_f32().unwrap())
            })
            .collect::<Vec<_>>()
    });
    for round in 0..20 {
        let mut want = values(0, round);
        for rank in 1..WORLD {
            for (w, v) in want.iter_mut().zip(values(rank, round)) {
                *w += v;
            }
        }
        for rank_out in &out {
            let (a, b) = &rank_out[round];
            assert_eq!(
                a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            );
            assert_eq!(b, &vec![6.0f32; 6]);
        }
    }
}

#[test]
fn mean_divides_by_the_world_size() {
    let out = on_ranks(3, |rank, c| {
        let t = Tensor::from_vec(vec![rank as f64 * 3.0, 1.0], vec![2], &cpu()).unwrap();
        c.all_reduce_mean(&[t]).unwrap()[0].to_vec_f64().unwrap()
    });
    for o in out {
        assert_eq!(o, vec![3.0, 1.0]);
    }
}

#[test]
fn broadcast_copies_the_roots_values() {
    let out = on_ranks(3, |rank, c| {
        let t = tensor(vec![rank as f32 + 0.5; 4], &[4]);
        c.broadcast(&[t], 2).unwrap()[0].to_vec_f32().unwrap()
    });
    for o in out {
        assert_eq!(o, vec![2.5; 4]);
    }
}

#[test]
fn mismatched_shapes_are_an_error_on_every_rank() {
    let out = on_ranks(2, |rank, c| {
        let t = tensor(vec![1.0; 3 + rank], &[3 + rank]);
        c.all_reduce_sum(&[t])
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    for o in out {
        assert!(o.unwrap_err().contains("other shapes"));
    }
}

#[test]
fn a_rank_that_leaves_does_not_hang_the_others() {
    let out = on_ranks(3, |rank, c| {
        if rank == 1 {
            drop(c);
            return Ok(());
        }
        c.all_reduce_sum(&[tensor(vec![1.0], &[1])]).map(|_| ())
    });
    assert!(out[0].is_err() && out[2].is_err());
    assert!(out[0]
        .as_ref()
        .unwrap_err()
        .to_string()
        .contains("rank 1 left"));
}

#[test]
fn a_single_rank_returns_its_input() {
    let t = tensor(vec![1.0, 2.0], &[2]);
    let c = SingleRank;
    assert_eq!(
        c.all_reduce_mean(std::slice::from_ref(&t)).unwrap()[0]
            .to_vec_f32()
            .unwrap(),
        vec![1.0, 2.0]
    );
    assert!(c.broadcast(&[t], 1).is_err());
    assert!(c.is_root());
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let m: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| m.get(k).cloned()
}

#[test]
fn torchrun_variables_are_read_and_checked() {
    assert_eq!(DistEnv::from_vars(env(&[])).unwrap(), None);
    let d = DistEnv::from_vars(env(&[
        ("WORLD_SIZE", "8"),
        ("RANK", "5"),
        ("LOCAL_RANK", "1"),
        ("LOCAL_WORLD_SIZE", "4"),
        ("MASTER_ADDR", "node0"),
        ("MASTER_PORT", "29400"),
    ]))
    .unwrap()
    .unwrap();
    assert_eq!(
        (d.rank, d.world_size, d.local_rank, d.local_world_size),
        (5, 8, 1, 4)
    );
    assert_eq!((d.master_addr.as_str(), d.master_port), ("node0", 29400));
    // Single-machine defaults.
    let d = DistEnv::from_vars(env(&[("WORLD_SIZE", "2"), ("RANK", "1")]))
        .unwrap()
        .unwrap();
    assert_eq!(
        (d.local_rank, d.local_world_size, d.master_port),
        (1, 2, 29500)
    );
    for bad in [
        vec![("WORLD_SIZE", "2")],
        vec![("WORLD_SIZE", "2"), ("RANK", "2")],
        vec![("WORLD_SIZE", "0"), ("RANK", "0")],
        vec![("WORLD_SIZE", "2"), ("RANK", "x")],
        vec![("WORLD_SIZE", "2"), ("RANK", "0"), ("MASTER_PORT", "70000")],
        vec![
            ("WORLD_SIZE", "2"),
            ("RANK", "0"),
            ("LOCAL_RANK", "3"),
            ("LOCAL_WORLD_SIZE", "2"),
        ],
    ] {
        assert!(DistEnv::from_vars(env(&bad)).is_err(), "{bad:?}");
    }
}
