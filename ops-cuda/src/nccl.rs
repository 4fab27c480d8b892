//! NCCL between the GPUs of one process, one thread per GPU: the `Collective`
//! of multi-GPU data-parallel training. The operations are queued on each
//! device's single stream, in order with its kernels, so no extra
//! synchronisation is needed before or after them.

use crate::device::Inner;
use crate::error::CudaError;
use crate::registry;
use cudarc::nccl::{result, sys};
use std::sync::Arc;
use tcgan_core::{Collective, DType, Device, Error, Result, Tensor};

/// An NCCL communicator, destroyed once.
struct Comm(sys::ncclComm_t);

// SAFETY: an NCCL communicator may be used from any thread, one at a time; each
// rank owns its communicator and calls it from its own thread.
unsafe impl Send for Comm {}
unsafe impl Sync for Comm {}

impl Drop for Comm {
    fn drop(&mut self) {
        // SAFETY: created by ncclCommInitAll and destroyed only here.
        let _ = unsafe { result::comm_destroy(self.0) };
    }
}

/// One GPU's rank in a group made by [`nccl_group`]; move it to the thread
/// that drives that GPU.
pub struct NcclRank {
    rank: usize,
    world: usize,
    comm: Comm,
    inner: Arc<Inner>,
    device: Device,
}

impl NcclRank {
    /// The GPU this rank drives: the device its thread trains on.
    pub fn device(&self) -> &Device {
        &self.device
    }
}

impl std::fmt::Debug for NcclRank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "NcclRank({}/{} on {})",
            self.rank, self.world, self.inner.name
        )
    }
}

/// Starts the GPUs `ordinals` (rank i drives `ordinals[i]`) and connects them.
pub fn nccl_group(ordinals: &[usize]) -> std::result::Result<Vec<NcclRank>, CudaError> {
    let started = ordinals
        .iter()
        .map(|&o| registry::get(o))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    // SAFETY: only tries to open the library by its usual names.
    if !unsafe { sys::is_culib_present() } {
        return Err(CudaError::MissingLibrary {
            library: "libnccl.so.2 (NCCL, for more than one GPU)".into(),
            hint: format!(
                "install NCCL, or the wheel {} and add its lib folder to LD_LIBRARY_PATH",
                crate::cuda_version::NCCL_WHEEL
            ),
        });
    }
    let devlist: Vec<i32> = ordinals.iter().map(|&o| o as i32).collect();
    let mut comms = vec![std::ptr::null_mut(); ordinals.len()];
    // SAFETY: one output slot per device in the list.
    unsafe { result::comm_init_all(comms.as_mut_ptr(), devlist.len() as i32, devlist.as_ptr()) }
        .map_err(|e| CudaError::Startup {
            ordinal: ordinals.first().copied().unwrap_or(0),
            msg: format!("ncclCommInitAll over GPUs {ordinals:?}: {e:?}"),
        })?;
    let world = ordinals.len();
    Ok(comms
        .into_iter()
        .zip(started)
        .enumerate()
        .map(|(rank, (comm, (device, inner)))| NcclRank {
            rank,
            world,
            comm: Comm(comm),
            inner,
            device,
        })
        .collect())
}

fn nccl_type(dtype: DType) -> sys::ncclDataType_t {
    match dtype {
        DType::F32 => sys::ncclDataType_t::ncclFloat32,
        DType::F64 => sys::ncclDataType_t::ncclFloat64,
        DType::F16 => sys::ncclDataType_t::ncclFloat16,
    }
}

impl NcclRank {
    fn err(&self, msg: String) -> Error {
        self.inner.err(format!("NCCL rank {}: {msg}", self.rank))
    }

    /// Runs `call(send, recv, count, dtype)` for every tensor inside one NCCL
    /// group, into new tensors of the same shapes.
    fn each(
        &self,
        tensors: &[Tensor],
        call: impl Fn(u64, u64, usize, sys::ncclDataType_t) -> std::result::Result<(), String>,
    ) -> Result<Vec<Tensor>> {
        let mut outs = Vec::with_capacity(tensors.len());
        let mut pairs = Vec::with_capacity(tensors.len());
        for t in tensors {
            if !t.device().same(&self.device) {
                return Err(self.err(format!(
                    "tensor on {} passed to the rank of {}",
                    t.device().name(),
                    self.inner.name
                )));
            }
            let storage = t.storage();
            let src = self.inner.storage(&storage)?.device_ptr();
            let out = self.inner.alloc(t.numel(), t.dtype())?;
            pairs.push((
                src,
                out.device_ptr(),
                t.numel(),
                nccl_type(t.dtype()),
                storage,
            ));
            outs.push((out, t.shape().clone()));
        }
        self.inner
            .ctx
            .bind_to_thread()
            .map_err(|e| self.err(format!("{e:?}")))?;
        result::group_start().map_err(|e| self.err(format!("ncclGroupStart: {e:?}")))?;
        let mut failed = None;
        for (src, dst, n, ty, _) in &pairs {
            if let Err(e) = call(*src, *dst, *n, *ty) {
                failed = Some(e);
                break;
            }
        }
        result::group_end().map_err(|e| self.err(format!("ncclGroupEnd: {e:?}")))?;
        if let Some(e) = failed {
            return Err(self.err(e));
        }
        outs.into_iter()
            .map(|(s, shape)| Tensor::from_storage(Arc::new(s), shape, &self.device))
            .collect()
    }
}

impl Collective for NcclRank {
    fn rank(&self) -> usize {
        self.rank
    }

    fn world_size(&self) -> usize {
        self.world
    }

    fn all_reduce_sum(&self, tensors: &[Tensor]) -> Result<Vec<Tensor>> {
        let stream = self.inner.stream.cu_stream();
        self.each(tensors, |src, dst, n, ty| {
            // SAFETY: src and dst are live allocations of n elements of `ty` on
            // this rank's GPU; the communicator belongs to this rank.
            unsafe {
                result::all_reduce(
                    src as *const _,
                    dst as *mut _,
                    n,
                    ty,
                    sys::ncclRedOp_t::ncclSum,
                    self.comm.0,
                    stream as _,
                )
            }
            .map(|_| ())
            .map_err(|e| format!("ncclAllReduce: {e:?}"))
        })
    }

    fn broadcast(&self, tensors: &[Tensor], root: usize) -> Result<Vec<Tensor>> {
        if root >= self.world {
            return Err(self.err(format!(
                "broadcast from rank {root} in a group of {}",
                self.world
            )));
        }
        let stream = self.inner.stream.cu_stream();
        self.each(tensors, |src, dst, n, ty| {
            // SAFETY: as for all_reduce.
            unsafe {
                result::broadcast(
                    src as *const _,
                    dst as *mut _,
                    n,
                    ty,
                    root as i32,
                    self.comm.0,
                    stream as _,
                )
            }
            .map(|_| ())
            .map_err(|e| format!("ncclBroadcast: {e:?}"))
        })
    }
}
