// Definitions shared by every kernel source of tcgan-ops-cuda; the backend puts
// this text in front of each source. NVRTC compiles the sources without any
// header, so everything they need beyond CUDA's built-ins is defined here.

typedef unsigned int u32;

#define TC_MAX_DIMS 8
#define TC_MAX_OPS 3

// A grid-stride loop over [0, n). The host keeps every size below 2^31, so
// `i + stride` cannot wrap around.
#define TC_GRID_LOOP(i, n) \
  for (u32 i = blockIdx.x * blockDim.x + threadIdx.x; i < (u32)(n); i += blockDim.x * gridDim.x)

// An output of `rank` dims read from up to TC_MAX_OPS operands through signed
// element strides (0 on broadcast axes, negative on flipped ones). Mirrors the
// `#[repr(C)] Layout` of layout.rs.
struct Layout {
  int rank;
  int dims[TC_MAX_DIMS];
  int strides[TC_MAX_OPS][TC_MAX_DIMS];
  int offsets[TC_MAX_OPS];
};

// The element offsets of the first K operands for the output's linear index i.
// Fully unrolled so that the parameter arrays are indexed by constants only.
template <int K>
__device__ __forceinline__ void layout_offsets(const Layout& l, u32 i, int* off) {
#pragma unroll
  for (int k = 0; k < K; ++k) off[k] = l.offsets[k];
#pragma unroll
  for (int d = TC_MAX_DIMS - 1; d >= 0; --d) {
    if (d < l.rank) {
      u32 n = (u32)l.dims[d];
      int c = (int)(i % n);
      i /= n;
#pragma unroll
      for (int k = 0; k < K; ++k) off[k] += c * l.strides[k][d];
    }
  }
}

// Overloads for float and double of the math functions the kernels use.
__device__ __forceinline__ float tc_exp(float x) { return expf(x); }
__device__ __forceinline__ double tc_exp(double x) { return exp(x); }
__device__ __forceinline__ float tc_expm1(float x) { return expm1f(x); }
__device__ __forceinline__ double tc_expm1(double x) { return expm1(x); }
__device__ __forceinline__ float tc_log(float x) { return logf(x); }
__device__ __forceinline__ double tc_log(double x) { return log(x); }
__device__ __forceinline__ float tc_log1p(float x) { return log1pf(x); }
__device__ __forceinline__ double tc_log1p(double x) { return log1p(x); }
__device__ __forceinline__ float tc_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double tc_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float tc_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double tc_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float tc_abs(float x) { return fabsf(x); }
__device__ __forceinline__ double tc_abs(double x) { return fabs(x); }
__device__ __forceinline__ float tc_pow(float x, float y) { return powf(x, y); }
__device__ __forceinline__ double tc_pow(double x, double y) { return pow(x, y); }
__device__ __forceinline__ float tc_fma(float a, float b, float c) { return fmaf(a, b, c); }
__device__ __forceinline__ double tc_fma(double a, double b, double c) { return fma(a, b, c); }

template <typename T> __device__ __forceinline__ T tc_inf();
template <> __device__ __forceinline__ float tc_inf<float>() { return __int_as_float(0x7f800000); }
template <> __device__ __forceinline__ double tc_inf<double>() {
  return __longlong_as_double(0x7ff0000000000000LL);
}

template <typename T> __device__ __forceinline__ bool tc_isnan(T x) { return x != x; }

// IEEE binary16 as stored in memory (core's DType::F16). Kernels compute in
// float: f16 tensors only pass through `fill` and `cast`, and every other op
// runs its f32 kernel between two casts (core's F16ViaF32). The conversions
// are the PTX instructions cuda_fp16.h wraps (round to nearest even), written
// here because NVRTC compiles without headers.
struct __align__(2) tc_half {
  unsigned short bits;
  __device__ __forceinline__ tc_half() : bits(0) {}
  __device__ __forceinline__ explicit tc_half(float f) {
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(bits) : "f"(f));
  }
  __device__ __forceinline__ explicit tc_half(double d) {
    asm("cvt.rn.f16.f64 %0, %1;" : "=h"(bits) : "d"(d));
  }
  __device__ __forceinline__ explicit operator float() const {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(bits));
    return f;
  }
  __device__ __forceinline__ explicit operator double() const {
    double d;
    asm("cvt.f64.f16 %0, %1;" : "=d"(d) : "h"(bits));
    return d;
  }
};
