//! `Tensor`: a shared handle to a contiguous value on a device plus, when it takes
//! part in differentiation, the operation that made it.

use crate::autograd::GradFn;
use crate::grad_mode::is_grad_enabled;
use crate::{DType, Device, Element, Error, HostBuffer, Result, Shape, Storage};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// Identity of a tensor node in the graph (unique per process).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(u64);

impl TensorId {
    fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        TensorId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

pub(crate) struct TensorInner {
    id: TensorId,
    /// Replaced as a whole by `set_data` (optimizer steps), never mutated in place.
    storage: RwLock<Storage>,
    shape: Shape,
    dtype: DType,
    device: Device,
    /// Only meaningful for leaves; a non-leaf requires grad iff it has a `grad_fn`.
    requires_grad: AtomicBool,
    grad_fn: Option<Arc<dyn GradFn>>,
    /// Gradient accumulated by `backward` into a leaf.
    grad: Mutex<Option<Tensor>>,
}

#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<TensorInner>);

impl Tensor {
    // ---------------------------------------------------------------- creation

    pub(crate) fn from_parts(
        storage: Storage,
        shape: Shape,
        device: Device,
        grad_fn: Option<Arc<dyn GradFn>>,
    ) -> Tensor {
        debug_assert_eq!(storage.len(), shape.numel());
        Tensor(Arc::new(TensorInner {
            id: TensorId::next(),
            dtype: storage.dtype(),
            storage: RwLock::new(storage),
            shape,
            device,
            requires_grad: AtomicBool::new(false),
            grad_fn,
            grad: Mutex::new(None),
        }))
    }

    /// A leaf tensor from a storage that already lives on `device`.
    pub fn from_storage(
        storage: Storage,
        shape: impl Into<Shape>,
        device: &Device,
    ) -> Result<Self> {
        let shape = shape.into();
        if storage.len() != shape.numel() {
            return Err(Error::DataLength {
                op: "from_storage",
                len: storage.len(),
                shape,
            });
        }
        Ok(Tensor::from_parts(storage, shape, device.clone(), None))
    }

    pub fn from_host(data: HostBuffer, shape: impl Into<Shape>, device: &Device) -> Result<Self> {
        let shape = shape.into();
        if data.len() != shape.numel() {
            return Err(Error::DataLength {
                op: "from_host",
                len: data.len(),
                shape,
            });
        }
        let storage = device.backend().upload(data)?;
        Ok(Tensor::from_parts(storage, shape, device.clone(), None))
    }

    pub fn from_vec<T: Element>(
        data: Vec<T>,
        shape: impl Into<Shape>,
        device: &Device,
    ) -> Result<Self>
    where
        Vec<T>: Into<HostBuffer>,
    {
        Self::from_host(data.into(), shape, device)
    }

    pub fn from_slice<T: Element>(
        data: &[T],
        shape: impl Into<Shape>,
        device: &Device,
    ) -> Result<Self>
    where
        Vec<T>: Into<HostBuffer>,
    {
        Self::from_host(data.to_vec().into(), shape, device)
    }

    pub fn full(
        value: f64,
        shape: impl Into<Shape>,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let shape = shape.into();
        let storage = device.backend().fill(value, shape.numel(), dtype)?;
        Ok(Tensor::from_parts(storage, shape, device.clone(), None))
    }

    pub fn zeros(shape: impl Into<Shape>, dtype: DType, device: &Device) -> Result<Self> {
        Self::full(0.0, shape, dtype, device)
    }

    pub fn ones(shape: impl Into<Shape>, dtype: DType, device: &Device) -> Result<Self> {
        Self::full(1.0, shape, dtype, device)
    }

    pub fn scalar(value: f64, dtype: DType, device: &Device) -> Result<Self> {
        Self::full(value, Shape::scalar(), dtype, device)
    }

    pub fn full_like(&self, value: f64) -> Result<Self> {
        Self::full(value, self.shape().clone(), self.dtype(), self.device())
    }

    pub fn zeros_like(&self) -> Result<Self> {
        self.full_like(0.0)
    }

    pub fn ones_like(&self) -> Result<Self> {
        self.full_like(1.0)
    }

    /// A scalar of this tensor's dtype and device.
    pub fn scalar_like(&self, value: f64) -> Result<Self> {
        Self::scalar(value, self.dtype(), self.device())
    }

    /// Marks a leaf as a trainable parameter (or stops it being one).
    pub fn set_requires_grad(&self, requires: bool) -> Result<&Self> {
        if self.0.grad_fn.is_some() {
            return Err(Error::Autograd(
                "requires_grad can only be changed on leaf tensors; use detach() first".into(),
            ));
        }
        self.0.requires_grad.store(requires, Ordering::Relaxed);
        Ok(self)
    }

    /// A new leaf that requires grad, sharing this tensor's value.
    pub fn requires_grad_(self, requires: bool) -> Result<Self> {
        self.set_requires_grad(requires)?;
        Ok(self)
    }

    // ---------------------------------------------------------------- accessors

    pub fn id(&self) -> TensorId {
        self.0.id
    }

    pub fn shape(&self) -> &Shape {
        &self.0.shape
    }

    pub fn dims(&self) -> &[usize] {
        self.0.shape.dims()
    }

    pub fn rank(&self) -> usize {
        self.0.shape.rank()
    }

    pub fn numel(&self) -> usize {
        self.0.shape.numel()
    }

    pub fn dim(&self, axis: usize) -> usize {
        self.0.shape.dim(axis)
    }

    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    pub fn device(&self) -> &Device {
        &self.0.device
    }

    pub fn storage(&self) -> Storage {
        self.0
            .storage
            .read()
            .expect("storage lock poisoned")
            .clone()
    }

    pub fn grad_fn(&self) -> Option<&Arc<dyn GradFn>> {
        self.0.grad_fn.as_ref()
    }

    pub fn is_leaf(&self) -> bool {
        self.0.grad_fn.is_none()
    }

    pub fn requires_grad(&self) -> bool {
        self.0.grad_fn.is_some() || self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// Same value, cut from the graph.
    pub fn detach(&self) -> Tensor {
        Tensor::from_parts(
            self.storage(),
            self.shape().clone(),
            self.device().clone(),
            None,
        )
    }

    // ---------------------------------------------------------------- leaf gradients

    /// The gradient accumulated into this leaf by `backward`.
    pub fn grad(&self) -> Option<Tensor> {
        self.0.grad.lock().expect("grad lock poisoned").clone()
    }

    pub fn set_grad(&self, g: Option<Tensor>) {
        *self.0.grad.lock().expect("grad lock poisoned") = g;
    }

    pub fn take_grad(&self) -> Option<Tensor> {
        self.0.grad.lock().expect("grad lock poisoned").take()
    }

    pub fn zero_grad(&self) {
        self.set_grad(None);
    }

    /// Replaces this tensor's value in place (optimizer updates, loading weights).
    /// Graphs recorded earlier that saved this tensor see the new value: call it
    /// between steps, not between forward and backward.
    pub fn set_data(&self, value: &Tensor) -> Result<()> {
        if value.shape() != self.shape() {
            return Err(Error::shape("set_data", self.shape(), value.shape(), ""));
        }
        if value.dtype() != self.dtype() {
            return Err(Error::DTypeMismatch {
                op: "set_data",
                lhs: self.dtype(),
                rhs: value.dtype(),
            });
        }
        if !value.device().same(self.device()) {
            return Err(Error::DeviceMismatch {
                op: "set_data",
                lhs: self.device().name(),
                rhs: value.device().name(),
            });
        }
        *self.0.storage.write().expect("storage lock poisoned") = value.storage();
        Ok(())
    }

    // ---------------------------------------------------------------- host access

    pub fn to_host(&self) -> Result<HostBuffer> {
        self.device().backend().download(&self.storage())
    }

    pub fn to_vec_f32(&self) -> Result<Vec<f32>> {
        Ok(self.to_host()?.into_f32())
    }

    pub fn to_vec_f64(&self) -> Result<Vec<f64>> {
        Ok(self.to_host()?.into_f64())
    }

    /// The single value of a one-element tensor.
    pub fn to_scalar(&self) -> Result<f64> {
        if self.numel() != 1 {
            return Err(Error::invalid(
                "to_scalar",
                self.shape(),
                "tensor has more than one element",
            ));
        }
        Ok(self.to_vec_f64()?[0])
    }

    // ---------------------------------------------------------------- graph recording

    /// Wraps a freshly computed storage; records `make_grad_fn()` as its origin when
    /// recording is on and any of `inputs` requires grad.
    pub(crate) fn from_op<F>(
        storage: Storage,
        shape: Shape,
        device: &Device,
        inputs: &[&Tensor],
        make_grad_fn: F,
    ) -> Tensor
    where
        F: FnOnce() -> Arc<dyn GradFn>,
    {
        let record = is_grad_enabled() && inputs.iter().any(|t| t.requires_grad());
        let grad_fn = if record { Some(make_grad_fn()) } else { None };
        Tensor::from_parts(storage, shape, device.clone(), grad_fn)
    }

    pub(crate) fn check_same(&self, op: &'static str, other: &Tensor) -> Result<()> {
        if self.dtype() != other.dtype() {
            return Err(Error::DTypeMismatch {
                op,
                lhs: self.dtype(),
                rhs: other.dtype(),
            });
        }
        if !self.device().same(other.device()) {
            return Err(Error::DeviceMismatch {
                op,
                lhs: self.device().name(),
                rhs: other.device().name(),
            });
        }
        Ok(())
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Tensor({}, {}, {}{})",
            self.shape(),
            self.dtype().name(),
            self.device().name(),
            match self.grad_fn() {
                Some(g) => format!(", grad_fn={}", g.name()),
                None if self.requires_grad() => ", requires_grad".to_string(),
                None => String::new(),
            }
        )
    }
}
