//! A caching device allocator: freed blocks go back to a free list by size
//! class and are handed out again without a driver call. Every kernel of a
//! backend runs on one stream, so a block released after its last use was
//! enqueued can be reused by work enqueued later without any synchronisation.

use cudarc::driver::{result, sys, CudaContext, CudaStream};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Counters of one device's allocator, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Held by live tensors (rounded to size classes).
    pub in_use: usize,
    pub peak_in_use: usize,
    /// Held from the driver: in use plus cached.
    pub reserved: usize,
    pub peak_reserved: usize,
    /// Allocations served, and how many of them came from the cache.
    pub allocations: u64,
    pub cache_hits: u64,
}

#[derive(Default)]
struct State {
    free: HashMap<usize, Vec<sys::CUdeviceptr>>,
    stats: MemoryStats,
}

pub struct Allocator {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    state: Mutex<State>,
}

/// A device allocation that returns to its allocator's cache when dropped.
pub struct Block {
    ptr: sys::CUdeviceptr,
    bytes: usize,
    alloc: Arc<Allocator>,
}

impl Block {
    pub fn ptr(&self) -> sys::CUdeviceptr {
        self.ptr
    }
    pub fn allocator(&self) -> &Arc<Allocator> {
        &self.alloc
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        self.alloc.release(self.ptr, self.bytes);
    }
}

/// Size classes: multiples of 512 bytes, then 8 classes per power of two, so
/// rounding wastes at most a quarter and similar sizes share blocks.
pub fn size_class(bytes: usize) -> usize {
    if bytes <= 512 {
        return 512;
    }
    let step = (bytes.next_power_of_two() / 8).max(512);
    bytes.div_ceil(step) * step
}

impl Allocator {
    pub fn new(ctx: Arc<CudaContext>, stream: Arc<CudaStream>) -> Arc<Self> {
        Arc::new(Allocator {
            ctx,
            stream,
            state: Mutex::new(State::default()),
        })
    }

    pub fn stats(&self) -> MemoryStats {
        self.state.lock().expect("allocator lock").stats
    }

    pub fn reset_peaks(&self) {
        let mut s = self.state.lock().expect("allocator lock");
        s.stats.peak_in_use = s.stats.in_use;
        s.stats.peak_reserved = s.stats.reserved;
    }

    /// A block of at least `bytes` bytes (none is allocated for 0).
    pub fn alloc(self: &Arc<Self>, bytes: usize) -> Result<Block, String> {
        if bytes == 0 {
            return Ok(Block {
                ptr: 0,
                bytes: 0,
                alloc: self.clone(),
            });
        }
        let size = size_class(bytes);
        let mut s = self.state.lock().expect("allocator lock");
        s.stats.allocations += 1;
        let cached = s.free.get_mut(&size).and_then(Vec::pop);
        let ptr = match cached {
            Some(p) => {
                s.stats.cache_hits += 1;
                p
            }
            None => {
                let p = self.malloc(size).or_else(|e| {
                    if e.0 != sys::CUresult::CUDA_ERROR_OUT_OF_MEMORY {
                        return Err(format!("cuMemAlloc of {size} bytes failed: {e:?}"));
                    }
                    // Out of memory: give the cached blocks back and try once more.
                    self.trim_locked(&mut s)?;
                    self.malloc(size).map_err(|e| {
                        format!(
                            "out of GPU memory: {:.1} MiB requested, {:.1} MiB in use by tensors ({e:?})",
                            size as f64 / 1048576.0,
                            s.stats.in_use as f64 / 1048576.0
                        )
                    })
                })?;
                s.stats.reserved += size;
                s.stats.peak_reserved = s.stats.peak_reserved.max(s.stats.reserved);
                p
            }
        };
        s.stats.in_use += size;
        s.stats.peak_in_use = s.stats.peak_in_use.max(s.stats.in_use);
        Ok(Block {
            ptr,
            bytes: size,
            alloc: self.clone(),
        })
    }

    fn malloc(&self, size: usize) -> Result<sys::CUdeviceptr, result::DriverError> {
        self.ctx.bind_to_thread()?;
        // SAFETY: a plain allocation in the bound context.
        unsafe { result::malloc_sync(size) }
    }

    fn release(&self, ptr: sys::CUdeviceptr, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let mut s = self.state.lock().expect("allocator lock");
        s.stats.in_use -= bytes;
        s.free.entry(bytes).or_default().push(ptr);
    }

    /// Returns every cached block to the driver.
    pub fn trim(&self) -> Result<(), String> {
        let mut s = self.state.lock().expect("allocator lock");
        self.trim_locked(&mut s)
    }

    fn trim_locked(&self, s: &mut State) -> Result<(), String> {
        // Work still queued may use blocks that were released after enqueueing it.
        self.stream
            .synchronize()
            .map_err(|e| format!("synchronize before freeing cached memory: {e:?}"))?;
        self.ctx
            .bind_to_thread()
            .map_err(|e| format!("bind context: {e:?}"))?;
        // Every block is freed even after a failure (the map is drained either
        // way); the first error is reported.
        let mut first_error = None;
        for (size, ptrs) in s.free.drain() {
            for p in ptrs {
                // SAFETY: p came from malloc_sync, is not in use and is freed once.
                match unsafe { result::free_sync(p) } {
                    Ok(()) => s.stats.reserved -= size,
                    Err(e) => {
                        first_error.get_or_insert_with(|| format!("cuMemFree: {e:?}"));
                    }
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for Allocator {
    fn drop(&mut self) {
        // Only cached blocks remain: every Block holds the allocator alive.
        let state = self.state.get_mut().expect("allocator lock");
        let mut s = std::mem::take(state);
        let _ = self.trim_locked(&mut s);
    }
}

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn size_classes_round_up_by_at_most_a_quarter() {
        for bytes in [
            1usize,
            511,
            512,
            513,
            4096,
            4097,
            1 << 20,
            (1 << 20) + 1,
            123_456_789,
        ] {
            let c = size_class(bytes);
            assert!(c >= bytes && c % 512 == 0, "{bytes} -> {c}");
            assert!(
                c <= (bytes + bytes / 4).max(bytes.next_multiple_of(512)),
                "{bytes} -> {c}"
            );
        }
        // Equal classes for nearby sizes: the point of caching.
        assert_eq!(size_class(1_000_000), size_class(1_000_100));
    }
}
