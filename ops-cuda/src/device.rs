//! One started GPU: its context, stream, cuBLAS handle, allocator and loaded
//! kernels, and the helpers every op uses (allocation, copies, launches, GEMM).

use crate::alloc::{Allocator, MemoryStats};
use crate::compile::{self, Target};
use crate::cuda_version;
use crate::error::CudaError;
use crate::kernels::KernelSource;
use crate::storage::CudaStorage;
use cudarc::cublas::{result as blas, sys as blas_sys, CudaBlas};
use cudarc::driver::{
    result, sys, CudaContext, CudaFunction, CudaModule, CudaStream, DeviceRepr, LaunchConfig,
};
use cudarc::nvrtc::Ptx;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Where a machine has only the other CUDA major version's libraries, the
/// other build is the fix.
fn other_build_hint() -> String {
    format!(
        " (a machine with CUDA {} libraries only needs a build with `--features {}`)",
        if cuda_version::MAJOR == 12 { 13 } else { 12 },
        cuda_version::other_feature()
    )
}
use tcgan_core::{DType, Error, Result, Storage};

/// Threads per block of the one-dimensional kernels.
pub const THREADS: u32 = 256;

/// The largest element count the kernels index (they use 32-bit indices).
pub const MAX_ELEMENTS: usize = i32::MAX as usize;

pub struct Inner {
    pub ordinal: usize,
    pub name: String,
    pub gpu_name: String,
    /// Compute capability as major * 10 + minor.
    pub sm: u32,
    pub target: Target,
    pub driver_version: i32,
    pub nvrtc_version: (i32, i32),
    pub ctx: Arc<CudaContext>,
    /// Every kernel, copy and cuBLAS call of this device runs on this stream.
    pub stream: Arc<CudaStream>,
    blas: Mutex<CudaBlas>,
    pub alloc: Arc<Allocator>,
    modules: Mutex<HashMap<&'static str, Arc<CudaModule>>>,
    functions: Mutex<HashMap<String, CudaFunction>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, sm_{}, kernels for {})",
            self.name, self.gpu_name, self.sm, self.target
        )
    }
}

/// The CUDA version a driver supports, from cuDriverGetVersion.
fn driver_version() -> std::result::Result<i32, String> {
    let mut v = 0;
    // SAFETY: a valid out-pointer; works before cuInit.
    unsafe { sys::cuDriverGetVersion(&mut v) }
        .result()
        .map_err(|e| format!("cuDriverGetVersion failed: {e:?}"))?;
    Ok(v)
}

/// The number of visible GPUs, 0 when there is no driver.
pub fn device_count() -> usize {
    // SAFETY: only tries to open the library by its usual names.
    if !unsafe { sys::is_culib_present() } {
        return 0;
    }
    std::panic::catch_unwind(|| {
        result::init().ok()?;
        result::device::get_count().ok()
    })
    .ok()
    .flatten()
    .map_or(0, |n| n.max(0) as usize)
}

impl Inner {
    /// Starts GPU `ordinal`. Every missing piece is an error, never a panic: the
    /// libraries are probed before cudarc touches them, and a panic inside
    /// cudarc (a symbol missing from an old library) is turned into an error.
    pub fn start(ordinal: usize) -> std::result::Result<Arc<Inner>, CudaError> {
        match std::panic::catch_unwind(|| Self::start_inner(ordinal)) {
            Ok(r) => r,
            Err(p) => Err(CudaError::Startup {
                ordinal,
                msg: p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic in the CUDA bindings".into()),
            }),
        }
    }

    fn start_inner(ordinal: usize) -> std::result::Result<Arc<Inner>, CudaError> {
        let startup = |msg: String| CudaError::Startup { ordinal, msg };
        // SAFETY: these only try to open the libraries by their usual names.
        if !unsafe { sys::is_culib_present() } {
            return Err(CudaError::NoDriver);
        }
        let driver_version = driver_version().map_err(startup)?;
        if driver_version < cuda_version::MAJOR * 1000 {
            return Err(CudaError::DriverTooOld {
                major: driver_version / 1000,
                minor: driver_version % 1000 / 10,
                needed: cuda_version::MAJOR,
                min_driver: cuda_version::MIN_DRIVER,
            });
        }
        result::init().map_err(|e| CudaError::NoDevice(format!("cuInit: {e:?}")))?;
        let count = result::device::get_count()
            .map_err(|e| CudaError::NoDevice(format!("cuDeviceGetCount: {e:?}")))?
            .max(0) as usize;
        if count == 0 {
            return Err(CudaError::NoDevice("the driver reports 0 devices".into()));
        }
        if ordinal >= count {
            return Err(CudaError::NoSuchDevice { ordinal, count });
        }
        if !compile::nvrtc_present() {
            let major = cuda_version::MAJOR;
            return Err(CudaError::MissingLibrary {
                library: format!("libnvrtc.so.{major} (the CUDA {major} runtime compiler)"),
                hint: format!(
                    "install the CUDA {major} toolkit's NVRTC, or the wheel {} and add its lib folder to LD_LIBRARY_PATH{}",
                    cuda_version::NVRTC_WHEEL,
                    other_build_hint()
                ),
            });
        }
        // SAFETY: only tries to open the library by its usual names.
        if !unsafe { blas_sys::is_culib_present() } {
            let major = cuda_version::MAJOR;
            return Err(CudaError::MissingLibrary {
                library: format!("libcublas.so.{major} (cuBLAS of CUDA {major})"),
                hint: format!(
                    "install the CUDA {major} toolkit's cuBLAS, or the wheel {} and add its lib folder to LD_LIBRARY_PATH{}",
                    cuda_version::CUBLAS_WHEEL,
                    other_build_hint()
                ),
            });
        }
        let nvrtc_version = compile::nvrtc_version().map_err(startup)?;
        if nvrtc_version.0 != cuda_version::MAJOR {
            let major = cuda_version::MAJOR;
            return Err(startup(format!(
                "found NVRTC {}.{}, but this build loads CUDA {major} libraries: put CUDA {major}'s libnvrtc.so.{major} first on LD_LIBRARY_PATH{}",
                nvrtc_version.0,
                nvrtc_version.1,
                other_build_hint()
            )));
        }
        let ctx = CudaContext::new(ordinal)
            .map_err(|e| startup(format!("cuDevicePrimaryCtxRetain: {e:?}")))?;
        let (major, minor) = ctx
            .compute_capability()
            .map_err(|e| startup(format!("compute capability: {e:?}")))?;
        let sm = (major * 10 + minor) as u32;
        let gpu_name = ctx.name().unwrap_or_else(|_| "unknown GPU".into());
        let archs = compile::supported_archs().map_err(startup)?;
        let target = compile::target_for(sm, &archs).map_err(startup)?;
        let stream = ctx
            .new_stream()
            .map_err(|e| startup(format!("creating a stream: {e:?}")))?;
        let cublas =
            CudaBlas::new(stream.clone()).map_err(|e| startup(format!("cublasCreate: {e:?}")))?;
        let alloc = Allocator::new(ctx.clone(), stream.clone());
        Ok(Arc::new(Inner {
            ordinal,
            name: format!("cuda:{ordinal}"),
            gpu_name,
            sm,
            target,
            driver_version,
            nvrtc_version,
            ctx,
            stream,
            blas: Mutex::new(cublas),
            alloc,
            modules: Mutex::new(HashMap::new()),
            functions: Mutex::new(HashMap::new()),
        }))
    }

    /// An error of this device.
    pub fn err(&self, msg: impl Into<String>) -> Error {
        Error::Backend {
            backend: self.name.clone(),
            msg: msg.into(),
        }
    }

    pub fn memory_stats(&self) -> MemoryStats {
        self.alloc.stats()
    }

    // ---------------------------------------------------------------- memory

    /// Uninitialised storage for `len` elements.
    pub fn alloc(&self, len: usize, dtype: DType) -> Result<CudaStorage> {
        if len > MAX_ELEMENTS {
            return Err(self.err(format!(
                "a tensor of {len} elements is larger than the CUDA kernels index (2^31 - 1)"
            )));
        }
        let block = self
            .alloc
            .alloc(len * dtype.size_in_bytes())
            .map_err(|e| self.err(e))?;
        Ok(CudaStorage { block, len, dtype })
    }

    /// The CUDA storage behind a handle, checked to live on this device.
    pub fn storage<'a>(&self, s: &'a Storage) -> Result<&'a CudaStorage> {
        let c = s
            .as_any()
            .downcast_ref::<CudaStorage>()
            .ok_or_else(|| self.err(format!("storage {s:?} is not GPU memory")))?;
        if !Arc::ptr_eq(c.block.allocator(), &self.alloc) {
            return Err(self.err(format!("storage {c:?} belongs to another GPU")));
        }
        Ok(c)
    }

    /// Copies host values into new device memory.
    pub fn upload<T: DeviceRepr>(&self, data: &[T], dtype: DType) -> Result<CudaStorage> {
        let out = self.alloc(data.len(), dtype)?;
        self.copy_in(&out, data)?;
        Ok(out)
    }

    /// Writes `data` at the start of `dst` (asynchronously; pageable host memory
    /// is staged before the call returns, so `data` may be dropped after it).
    fn copy_in<T: DeviceRepr>(&self, dst: &CudaStorage, data: &[T]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.bind()?;
        // SAFETY: dst holds at least data.len() elements of T's size.
        unsafe { result::memcpy_htod_async(dst.device_ptr(), data, self.stream.cu_stream()) }
            .map_err(|e| self.err(format!("copy to the GPU: {e:?}")))
    }

    /// Index arrays for the kernels, as 32-bit values.
    pub fn upload_u32(&self, v: &[u32]) -> Result<crate::alloc::Block> {
        // F32 only sizes the block: 4 bytes per element, like u32.
        let s = self.alloc(v.len(), DType::F32)?;
        self.copy_in(&s, v)?;
        Ok(s.block)
    }

    /// Waits for the stream and copies `len` values of T to the host.
    pub fn download<T: DeviceRepr + Default + Clone>(&self, src: &CudaStorage) -> Result<Vec<T>> {
        let mut out = vec![T::default(); src.len];
        if src.len > 0 {
            self.bind()?;
            // SAFETY: src holds src.len elements of T; `out` stays alive and
            // unmoved until the stream is synchronised below.
            unsafe {
                result::memcpy_dtoh_async(&mut out, src.device_ptr(), self.stream.cu_stream())
            }
            .map_err(|e| self.err(format!("copy from the GPU: {e:?}")))?;
        }
        self.sync()?;
        Ok(out)
    }

    /// Device-to-device copy of `bytes` bytes, in stream order.
    pub fn copy_dtod(
        &self,
        dst: sys::CUdeviceptr,
        src: sys::CUdeviceptr,
        bytes: usize,
    ) -> Result<()> {
        if bytes == 0 {
            return Ok(());
        }
        self.bind()?;
        // SAFETY: both ranges are live allocations of at least `bytes` bytes.
        unsafe { result::memcpy_dtod_async(dst, src, bytes, self.stream.cu_stream()) }
            .map_err(|e| self.err(format!("device copy: {e:?}")))
    }

    pub fn sync(&self) -> Result<()> {
        self.stream.synchronize().map_err(|e| {
            self.err(format!(
                "GPU work failed ({e:?}); the error may come from any kernel queued since the last synchronisation"
            ))
        })
    }

    fn bind(&self) -> Result<()> {
        self.ctx
            .bind_to_thread()
            .map_err(|e| self.err(format!("binding the CUDA context: {e:?}")))
    }

    // ---------------------------------------------------------------- kernels

    /// The kernel with this name expression, compiled and loaded at first use.
    pub fn function(&self, kernel: &str) -> Result<CudaFunction> {
        if let Some(f) = self.functions.lock().expect("function cache").get(kernel) {
            return Ok(f.clone());
        }
        let src = KernelSource::find(kernel)
            .ok_or_else(|| self.err(format!("no kernel source lists {kernel}")))?;
        let compiled =
            compile::compile_cached(src, self.target).map_err(|e| self.err(e.to_string()))?;
        let module = self.module(src, &compiled)?;
        let symbol = compiled
            .symbols
            .get(kernel)
            .ok_or_else(|| self.err(format!("{kernel} missing from {}.cu", src.name)))?;
        let f = module
            .load_function(symbol)
            .map_err(|e| self.err(format!("loading {kernel}: {e:?}")))?;
        self.functions
            .lock()
            .expect("function cache")
            .insert(kernel.to_string(), f.clone());
        Ok(f)
    }

    fn module(
        &self,
        src: &'static KernelSource,
        compiled: &compile::Compiled,
    ) -> Result<Arc<CudaModule>> {
        let mut modules = self.modules.lock().expect("module cache");
        if let Some(m) = modules.get(src.name) {
            return Ok(m.clone());
        }
        let image = match compiled.target {
            Target::Cubin(_) => Ptx::from_binary(compiled.image.clone()),
            Target::Ptx(_) => Ptx::from_src(String::from_utf8_lossy(&compiled.image).into_owned()),
        };
        let m = self.ctx.load_module(image).map_err(|e| {
            let hint = if e.0 == sys::CUresult::CUDA_ERROR_UNSUPPORTED_PTX_VERSION {
                format!(
                    ": the driver supports CUDA {}.{}, older than NVRTC {}.{} that compiled the kernels as PTX for this GPU; update the driver to one for CUDA {}.{} or newer",
                    self.driver_version / 1000,
                    self.driver_version % 1000 / 10,
                    self.nvrtc_version.0,
                    self.nvrtc_version.1,
                    self.nvrtc_version.0,
                    self.nvrtc_version.1
                )
            } else {
                String::new()
            };
            self.err(format!("loading {}.cu for {}: {e:?}{hint}", src.name, compiled.target))
        })?;
        modules.insert(src.name, m.clone());
        Ok(m)
    }

    // ---------------------------------------------------------------- GEMM

    /// Row-major batched `C = op(A) op(B) (+ C when accumulate)` through cuBLAS.
    pub fn gemm(&self, dtype: DType, g: &Gemm, a: u64, b: u64, c: u64) -> Result<()> {
        if g.m == 0 || g.n == 0 || g.batch == 0 {
            return Ok(());
        }
        // A row-major product is the column-major product of the transposes:
        // C^T = op(B)^T op(A)^T, so B goes first.
        let op = |t: bool| {
            if t {
                blas_sys::cublasOperation_t::CUBLAS_OP_T
            } else {
                blas_sys::cublasOperation_t::CUBLAS_OP_N
            }
        };
        let i = |v: usize| -> Result<i32> {
            i32::try_from(v).map_err(|_| self.err(format!("GEMM dimension {v} exceeds 2^31")))
        };
        let (m, n, k) = (i(g.n)?, i(g.m)?, i(g.k)?);
        let (lda, ldb, ldc) = (i(g.ldb)?, i(g.lda)?, i(g.ldc)?);
        let elem = dtype.size_in_bytes() as u64;
        self.bind()?;
        let blas = self.blas.lock().expect("cublas handle");
        let handle = *blas.handle();
        // cuBLAS takes at most 65535 products per call on some versions.
        let mut done = 0usize;
        while done < g.batch {
            let count = (g.batch - done).min(65535);
            let (pa, pb, pc) = (
                a + (done * g.stride_a) as u64 * elem,
                b + (done * g.stride_b) as u64 * elem,
                c + (done * g.stride_c) as u64 * elem,
            );
            // SAFETY: the caller sized every operand for `batch` products with
            // these strides and leading dimensions; alpha/beta live on the host.
            let r = unsafe {
                match dtype {
                    DType::F32 => {
                        let (alpha, beta) = (1f32, if g.accumulate { 1f32 } else { 0f32 });
                        blas::sgemm_strided_batched(
                            handle,
                            op(g.trans_b),
                            op(g.trans_a),
                            m,
                            n,
                            k,
                            &alpha,
                            pb as *const f32,
                            lda,
                            g.stride_b as i64,
                            pa as *const f32,
                            ldb,
                            g.stride_a as i64,
                            &beta,
                            pc as *mut f32,
                            ldc,
                            g.stride_c as i64,
                            count as i32,
                        )
                    }
                    DType::F16 => {
                        return Err(self.err(
                            "cuBLAS gemm on f16 storage: f16 products run as f32 (F16ViaF32)"
                                .to_string(),
                        ))
                    }
                    DType::F64 => {
                        let (alpha, beta) = (1f64, if g.accumulate { 1f64 } else { 0f64 });
                        blas::dgemm_strided_batched(
                            handle,
                            op(g.trans_b),
                            op(g.trans_a),
                            m,
                            n,
                            k,
                            &alpha,
                            pb as *const f64,
                            lda,
                            g.stride_b as i64,
                            pa as *const f64,
                            ldb,
                            g.stride_a as i64,
                            &beta,
                            pc as *mut f64,
                            ldc,
                            g.stride_c as i64,
                            count as i32,
                        )
                    }
                }
            };
            r.map_err(|e| self.err(format!("cuBLAS gemm {g:?}: {e:?}")))?;
            done += count;
        }
        Ok(())
    }
}

/// A row-major batched matrix product: `C[m, n] = op(A)[m, k] op(B)[k, n]`.
/// `lda`/`ldb`/`ldc` are the stored row lengths (`k` for an untransposed A,
/// `m` for a transposed one), strides are in elements (0 shares an operand).
#[derive(Debug, Clone, Copy, Default)]
pub struct Gemm {
    pub trans_a: bool,
    pub trans_b: bool,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub lda: usize,
    pub ldb: usize,
    pub ldc: usize,
    pub stride_a: usize,
    pub stride_b: usize,
    pub stride_c: usize,
    pub batch: usize,
    pub accumulate: bool,
}

/// A one-dimensional grid over `n` elements (grid-stride loops cover the rest).
pub fn grid(n: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (
            (n.div_ceil(THREADS as usize)).clamp(1, 1 << 16) as u32,
            1,
            1,
        ),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// The C++ spelling of a dtype in kernel name expressions.
pub fn ctype(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "float",
        DType::F64 => "double",
        DType::F16 => "tc_half",
    }
}

/// `base<float>` or `base<double>`: the name expression of a float kernel.
pub fn kname(base: &str, dtype: DType) -> String {
    format!("{base}<{}>", ctype(dtype))
}

/// Launches a kernel by name expression with the given argument variables, in
/// the order of the kernel's parameters.
macro_rules! launch {
    ($inner:expr, $kernel:expr, $cfg:expr; $($arg:ident),* $(,)?) => {{
        let kernel: String = $kernel;
        let f = $inner.function(&kernel)?;
        let mut b = $inner.stream.launch_builder(&f);
        $( cudarc::driver::PushKernelArg::arg(&mut b, &$arg); )*
        // SAFETY: the arguments match the kernel's parameters in its .cu file
        // in number, order and type, and every pointer is a live allocation of
        // the size the kernel indexes (checked by the op before launching).
        unsafe { b.launch($cfg) }
            .map_err(|e| $inner.err(format!("launching {kernel}: {e:?}")))?;
    }};
}
pub(crate) use launch;
