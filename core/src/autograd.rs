//! Reverse-mode differentiation over the recorded graph. Every gradient rule is
//! written with `Tensor` operations, so with `create_graph` the gradients are
//! themselves recorded and can be differentiated again (R1, path-length reg.).

use crate::grad_mode::GradModeGuard;
use crate::{Error, Result, Tensor, TensorId};
use std::collections::{HashMap, HashSet};

/// The record of one operation: its differentiable inputs and its gradient rule.
pub trait GradFn: Send + Sync {
    /// The operation's name, for error messages and debugging.
    fn name(&self) -> &'static str;

    /// The tensor inputs the output depends on, in a fixed order.
    fn inputs(&self) -> &[Tensor];

    /// Gradients with respect to each input given the output's gradient `grad`.
    /// `output` is the tensor this node produced (rules such as tanh's use it).
    /// Entries where `needs[i]` is false may be `None` and are ignored.
    fn backward(
        &self,
        output: &Tensor,
        grad: &Tensor,
        needs: &[bool],
    ) -> Result<Vec<Option<Tensor>>>;
}

/// Gradients of `outputs` (weighted by `grad_outputs`, ones where `None`) with
/// respect to `inputs`, as `torch.autograd.grad`. Inputs that the outputs do not
/// depend on get zeros. With `create_graph` the result is differentiable.
pub fn grad(
    outputs: &[&Tensor],
    grad_outputs: &[Option<&Tensor>],
    inputs: &[&Tensor],
    create_graph: bool,
) -> Result<Vec<Tensor>> {
    let _mode = GradModeGuard::new(create_graph);
    let roots = seed_roots(outputs, grad_outputs)?;
    let targets: HashSet<TensorId> = inputs.iter().map(|t| t.id()).collect();
    let found = run(roots, Some(&targets), false)?;
    inputs
        .iter()
        .map(|t| match found.get(&t.id()) {
            Some(g) => Ok(g.clone()),
            None => t.zeros_like(),
        })
        .collect()
}

/// Accumulates d(output)/d(leaf) into `.grad()` of every leaf that requires grad,
/// as `output.backward(grad_output)` in PyTorch.
pub fn backward(output: &Tensor, grad_output: Option<&Tensor>, create_graph: bool) -> Result<()> {
    let _mode = GradModeGuard::new(create_graph);
    let roots = seed_roots(&[output], &[grad_output])?;
    run(roots, None, true)?;
    Ok(())
}

impl Tensor {
    /// `autograd::backward(self, None, false)`: for scalar losses.
    pub fn backward(&self) -> Result<()> {
        backward(self, None, false)
    }
}

fn seed_roots(
    outputs: &[&Tensor],
    grad_outputs: &[Option<&Tensor>],
) -> Result<Vec<(Tensor, Tensor)>> {
    if !grad_outputs.is_empty() && grad_outputs.len() != outputs.len() {
        return Err(Error::Autograd(format!(
            "{} outputs but {} output gradients",
            outputs.len(),
            grad_outputs.len()
        )));
    }
    let mut roots = Vec::with_capacity(outputs.len());
    for (i, out) in outputs.iter().enumerate() {
        if !out.requires_grad() {
            return Err(Error::Autograd(format!(
                "output {i} ({out:?}) does not require grad: nothing it depends on is differentiable"
            )));
        }
        let g = match grad_outputs.get(i).copied().flatten() {
            Some(g) => {
                if g.shape() != out.shape() {
                    return Err(Error::shape(
                        "grad",
                        out.shape(),
                        g.shape(),
                        "output vs its gradient",
                    ));
                }
                g.clone()
            }
            None => out.ones_like()?,
        };
        roots.push(((*out).clone(), g));
    }
    Ok(roots)
}

/// Nodes reachable from the roots through tensors that require grad, each after
/// every node that consumes it (a reverse post-order of the graph).
fn topological_order(roots: &[(Tensor, Tensor)]) -> Vec<Tensor> {
    let mut visited: HashSet<TensorId> = HashSet::new();
    let mut post: Vec<Tensor> = Vec::new();
    // Explicit stack: (node, index of the next input to visit).
    let mut stack: Vec<(Tensor, usize)> = Vec::new();
    for (root, _) in roots {
        if !visited.insert(root.id()) {
            continue;
        }
        stack.push((root.clone(), 0));
        while let Some((node, next)) = stack.pop() {
            let inputs = node.grad_fn().map(|f| f.inputs()).unwrap_or(&[]);
            let mut pushed = false;
            for (i, child) in inputs.iter().enumerate().skip(next) {
                if child.requires_grad() && visited.insert(child.id()) {
                    let child = child.clone();
                    stack.push((node.clone(), i + 1));
                    stack.push((child, 0));
                    pushed = true;
                    break;
                }
            }
            if !pushed {
                post.push(node);
            }
        }
    }
    post.reverse();
    post
}

fn run(
    roots: Vec<(Tensor, Tensor)>,
    targets: Option<&HashSet<TensorId>>,
    accumulate_leaves: bool,
) -> Result<HashMap<TensorId, Tensor>> {
    let order = topological_order(&roots);

    // With explicit targets, only nodes that lead to one need a gradient.
    let useful: Option<HashSet<TensorId>> = targets.map(|targets| {
        let mut useful = HashSet::new();
        for node in order.iter().rev() {
            let leads = targets.contains(&node.id())
                || node
                    .grad_fn()
                    .map(|f| f.inputs().iter().any(|c| useful.contains(&c.id())))
                    .unwrap_or(false);
            if leads {
                useful.insert(node.id());
            }
        }
        useful
    });
    let is_useful = |t: &Tensor| useful.as_ref().is_none_or(|u| u.contains(&t.id()));

    let mut grads: HashMap<TensorId, Tensor> = HashMap::new();
    for (out, g) in roots {
        accumulate(&mut grads, out.id(), g)?;
    }

    let mut found = HashMap::new();
    for node in &order {
        let Some(g) = grads.remove(&node.id()) else {
            continue;
        };
        if targets.is_some_and(|t| t.contains(&node.id())) {
            found.insert(node.id(), g.clone());
        }
        match node.grad_fn() {
            None => {
                if accumulate_leaves && node.requires_grad() {
                    let total = match node.grad() {
                        Some(prev) => prev.add(&g)?,
                        None => g,
                    };
                    node.set_grad(Some(total));
                }
            }
            Some(f) => {
                let inputs = f.inputs();
                let needs: Vec<bool> = inputs
                    .iter()
                    .map(|t| t.requires_grad() && is_useful(t))
                    .collect();
                if !needs.iter().any(|&n| n) {
                    continue;
                }
                let input_grads = f.backward(node, &g, &needs)?;
                if input_grads.len() != inputs.len() {
                    return Err(Error::Autograd(format!(
                        "{} returned {} gradients for {} inputs",
                        f.name(),
                        input_grads.len(),
                        inputs.len()
                    )));
                }
                for ((input, gi), need) in inputs.iter().zip(input_grads).zip(&needs) {
                    let (Some(gi), true) = (gi, *need) else {
                        continue;
                    };
                    if gi.shape() != input.shape() {
                        return Err(Error::Autograd(format!(
                            "{}: gradient of shape {} for an input of shape {}",
                            f.name(),
                            gi.shape(),
                            input.shape()
                        )));
                    }
                    accumulate(&mut grads, input.id(), gi)?;
                }
            }
        }
    }
    Ok(found)
}

fn accumulate(grads: &mut HashMap<TensorId, Tensor>, id: TensorId, g: Tensor) -> Result<()> {
    match grads.remove(&id) {
        Some(prev) => {
            grads.insert(id, prev.add(&g)?);
        }
        None => {
            grads.insert(id, g);
        }
    }
    Ok(())
}
