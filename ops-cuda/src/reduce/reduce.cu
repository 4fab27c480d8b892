// Sum / max / min over the middle axis of x viewed as [outer, red, inner]. The
// combination order depends on the shape alone (fixed block shapes, a fixed
// tree), never on timing: results are reproducible run to run.

#define TC_REDUCE_THREADS 256

template <typename T>
__device__ __forceinline__ T reduce_init(int op) {
  switch (op) {
    case TC_REDUCE_MAX: return -tc_inf<T>();
    case TC_REDUCE_MIN: return tc_inf<T>();
  }
  return (T)0;
}

// NaN wins, as in PyTorch.
template <typename T>
__device__ __forceinline__ T reduce_combine(int op, T a, T b) {
  switch (op) {
    case TC_REDUCE_MAX: return (tc_isnan(a) || a >= b) ? a : b;
    case TC_REDUCE_MIN: return (tc_isnan(a) || a <= b) ? a : b;
  }
  return a + b;
}

// inner == 1 and long rows: one block of TC_REDUCE_THREADS threads per row.
template <typename T>
__global__ void reduce_rows(T* out, const T* x, u32 rows, u32 red, int op) {
  __shared__ T buf[TC_REDUCE_THREADS];
  for (u32 row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * red;
    T acc = reduce_init<T>(op);
    for (u32 j = threadIdx.x; j < red; j += TC_REDUCE_THREADS) acc = reduce_combine(op, acc, xr[j]);
    buf[threadIdx.x] = acc;
    __syncthreads();
    for (u32 s = TC_REDUCE_THREADS / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s) buf[threadIdx.x] = reduce_combine(op, buf[threadIdx.x], buf[threadIdx.x + s]);
      __syncthreads();
    }
    if (threadIdx.x == 0) out[row] = buf[0];
    __syncthreads();
  }
}

// inner == 1 and short rows: one thread per row.
template <typename T>
__global__ void reduce_serial(T* out, const T* x, u32 rows, u32 red, int op) {
  TC_GRID_LOOP(row, rows) {
    const T* xr = x + row * red;
    T acc = reduce_init<T>(op);
    for (u32 j = 0; j < red; ++j) acc = reduce_combine(op, acc, xr[j]);
    out[row] = acc;
  }
}

// inner > 1: blocks of 32 x 8 threads; threadIdx.x walks `inner` (coalesced),
// threadIdx.y splits `red` into 8 interleaved partials combined in order.
template <typename T>
__global__ void reduce_cols(T* out, const T* x, u32 outer, u32 red, u32 inner, int op) {
  __shared__ T buf[8][33];
  const u32 col = blockIdx.x * 32 + threadIdx.x;
  for (u32 o = blockIdx.y; o < outer; o += gridDim.y) {
    T acc = reduce_init<T>(op);
    if (col < inner) {
      const T* xo = x + o * red * inner + col;
      for (u32 r = threadIdx.y; r < red; r += 8) acc = reduce_combine(op, acc, xo[r * inner]);
    }
    buf[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && col < inner) {
      T v = buf[0][threadIdx.x];
      for (int k = 1; k < 8; ++k) v = reduce_combine(op, v, buf[k][threadIdx.x]);
      out[o * inner + col] = v;
    }
    __syncthreads();
  }
}
