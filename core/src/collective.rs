//! Communication between the ranks of data-parallel training (one rank per
//! GPU, or threads in a CPU simulation): the all-reduce that averages
//! gradients every phase and the broadcast that starts every rank from rank
//! 0's weights. Implementations: `SingleRank` (no communication),
//! `InProcessGroup` (threads of one process, any device) and, in
//! tcgan-ops-cuda, NCCL.

use crate::{no_grad, Error, HostBuffer, Result, Shape, Tensor};
use std::fmt::Debug;
use std::sync::{Arc, Condvar, Mutex};

/// One rank's view of its group. Every rank must make the same calls in the
/// same order, with tensors of the same shapes and dtypes.
pub trait Collective: Send + Sync + Debug {
    fn rank(&self) -> usize;
    fn world_size(&self) -> usize;

    /// Elementwise sums over all ranks; every rank gets identical values.
    fn all_reduce_sum(&self, tensors: &[Tensor]) -> Result<Vec<Tensor>>;

    /// Rank `root`'s tensors, on every rank.
    fn broadcast(&self, tensors: &[Tensor], root: usize) -> Result<Vec<Tensor>>;

    /// Sums divided by the world size (the official code's gradient average).
    fn all_reduce_mean(&self, tensors: &[Tensor]) -> Result<Vec<Tensor>> {
        let n = self.world_size() as f64;
        let sums = self.all_reduce_sum(tensors)?;
        no_grad(|| sums.iter().map(|t| t.div(&t.scalar_like(n)?)).collect())
    }

    /// Whether this rank logs and writes snapshots.
    fn is_root(&self) -> bool {
        self.rank() == 0
    }
}

/// A group of one: every collective returns its input.
#[derive(Debug, Default, Clone, Copy)]
pub struct SingleRank;

impl Collective for SingleRank {
    fn rank(&self) -> usize {
        0
    }
    fn world_size(&self) -> usize {
        1
    }
    fn all_reduce_sum(&self, tensors: &[Tensor]) -> Result<Vec<Tensor>> {
        Ok(tensors.iter().map(Tensor::detach).collect())
    }
    fn broadcast(&self, tensors: &[Tensor], root: usize) -> Result<Vec<Tensor>> {
        if root != 0 {
            return Err(group_error(format!(
                "broadcast from rank {root} in a group of one"
            )));
        }
        Ok(tensors.iter().map(Tensor::detach).collect())
    }
}

fn group_error(msg: String) -> Error {
    Error::Backend {
        backend: "collective".into(),
        msg,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Sum,
    Broadcast(usize),
}

type Values = Vec<(Shape, HostBuffer)>;

#[derive(Default)]
struct State {
    /// Contributions of the round being collected, by rank.
    slots: Vec<Option<(Op, Values)>>,
    arrived: usize,
    /// The finished round's result while ranks are still picking it up.
    result: Option<Arc<std::result::Result<Values, String>>>,
    readers_left: usize,
    /// A rank whose handle was dropped: the others stop waiting for it.
    departed: Option<usize>,
}

struct Shared {
    world: usize,
    state: Mutex<State>,
    changed: Condvar,
}

/// Ranks as threads of one process, on any device: values meet on the host
/// and are combined in rank order, so every rank gets bit-identical results
/// whatever the timing (the CPU simulation of data-parallel training).
pub struct InProcessGroup;

impl InProcessGroup {
    /// The handles of a new group, one per rank, to be moved to their threads.
    pub fn ranks(world_size: usize) -> Vec<InProcessRank> {
        let shared = Arc::new(Shared {
            world: world_size,
            state: Mutex::new(State {
                slots: vec![None; world_size],
                ..State::default()
            }),
            changed: Condvar::new(),
        });
        (0..world_size)
            .map(|rank| InProcessRank {
                rank,
                shared: shared.clone(),
            })
            .collect()
    }
}

pub struct InProcessRank {
    rank: usize,
    shared: Arc<Shared>,
}

impl Debug for InProcessRank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InProcessRank({}/{})", self.rank, self.shared.world)
    }
}

impl Drop for InProcessRank {
    fn drop(&mut self) {
        if let Ok(mut s) = self.shared.state.lock() {
            s.departed.get_or_insert(self.rank);
            self.shared.changed.notify_all();
        }
    }
}

/// Combines the contributions of a round, checking that every rank asked for
/// the same thing.
fn combine(slots: &[Option<(Op, Values)>]) -> std::result::Result<Values, String> {
    let parts: Vec<&(Op, Values)> = slots
        .iter()
        .map(|s| s.as_ref().expect("every rank arrived"))
        .collect();
    let (op, first) = parts[0];
    for (r, (o, v)) in parts.iter().enumerate().skip(1) {
        if o != op {
            return Err(format!("rank 0 called {op:?} while rank {r} called {o:?}"));
        }
        let same = v.len() == first.len()
            && v.iter()
                .zip(first)
                .all(|(a, b)| a.0 == b.0 && a.1.dtype() == b.1.dtype());
        if !same {
            return Err(format!(
                "rank {r} passed tensors of other shapes or dtypes than rank 0"
            ));
        }
    }
    match *op {
        Op::Broadcast(root) => Ok(parts[root].1.clone()),
        Op::Sum => {
            let mut acc = first.clone();
            for (_, v) in parts.iter().skip(1) {
                for ((_, a), (_, b)) in acc.iter_mut().zip(v) {
                    match (a, b) {
                        (HostBuffer::F32(a), HostBuffer::F32(b)) => {
                            a.iter_mut().zip(b).for_each(|(x, y)| *x += y)
                        }
                        (HostBuffer::F64(a), HostBuffer::F64(b)) => {
                            a.iter_mut().zip(b).for_each(|(x, y)| *x += y)
                        }
                        _ => unreachable!("dtypes were checked"),
                    }
                }
            }
            Ok(acc)
        }
    }
}

impl InProcessRank {
    fn round(&self, op: Op, tensors: &[Tensor]) -> Result<Vec<Tensor>> {
        let values: Values = tensors
            .iter()
            .map(|t| Ok((t.shape().clone(), t.to_host()?)))
            .collect::<Result<_>>()?;
        let sh = &*self.shared;
        let mut s = sh.state.lock().expect("collective lock");
        // Wait until the previous round has been picked up by everyone.
        while s.result.is_some() {
            s = sh.changed.wait(s).expect("collective lock");
        }
        if let Some(r) = s.departed {
            return Err(group_error(format!("rank {r} left the group")));
        }
        s.slots[self.rank] = Some((op, values));
        s.arrived += 1;
        if s.arrived == sh.world {
            let result = combine(&s.slots);
            s.slots.iter_mut().for_each(|v| *v = None);
            s.arrived = 0;
            s.result = Some(Arc::new(result));
            s.readers_left = sh.world;
            sh.changed.notify_all();
        }
        let result = loop {
            if let Some(r) = &s.result {
                break r.clone();
            }
            if let Some(r) = s.departed {
                return Err(group_error(format!(
                    "rank {r} left the group while rank {} waited",
                    self.rank
                )));
            }
            s = sh.changed.wait(s).expect("collective lock");
        };
        s.readers_left -= 1;
        if s.readers_left == 0 {
            s.result = None;
            sh.changed.notify_all();
        }
        drop(s);
        let values = result
            .as_ref()
            .as_ref()
            .map_err(|e| group_error(e.clone()))?;
        values
            .iter()
            .zip(tensors)
            .map(|((shape, v), t)| Tensor::from_host(v.clone(), shape.clone(), t.device()))
            .collect()
    }
}

impl Collective for InProcessRank {
    fn rank(&self) -> usize {
        self.rank
    }
    fn world_size(&self) -> usize {
        self.shared.world
    }
    fn all_reduce_sum(&self, tensors: &[Tensor]) -> Result<Vec<Tensor>> {
        self.round(Op::Sum, tensors)
    }
    fn broadcast(&self, tensors: &[Tensor], root: usize) -> Result<Vec<Tensor>> {
        if root >= self.shared.world {
            return Err(group_error(format!(
                "broadcast from rank {root} in a group of {}",
                self.shared.world
            )));
        }
        self.round(Op::Broadcast(root), tensors)
    }
}
