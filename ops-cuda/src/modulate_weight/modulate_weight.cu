// The modulated-conv weight preparation: u[n, o, i, k] = weight[o, i, k] *
// styles[n, i], times d[n, o] = 1 / sqrt(sum_{i, k} u^2 + eps) when
// demodulating, written as [N, O, I, K] or (transposed) [N, I, O, K].
// Two kernels: the coefficients d, one warp per (n, o) summing the squares of
// the products (rounded to T, as stored) in double in a fixed order; then one
// thread per output element. Follows ops-cpu/src/modulate_weight.rs.

template <typename T>
__global__ void modulate_demod_coef(T* d, const T* w, const T* s, u32 rows, u32 o, u32 i, u32 k) {
  const u32 lane = threadIdx.x & 31u;
  const u32 warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const u32 warps = (blockDim.x * gridDim.x) >> 5;
  const u32 len = i * k;
  // `r` is the same for the 32 lanes of a warp, so the shuffles below run
  // with every lane present.
  for (u32 r = warp; r < rows; r += warps) {
    const T* wr = w + (size_t)(r % o) * len;
    const T* sr = s + (size_t)(r / o) * i;
    double acc = 0.0;
    for (u32 j = lane; j < len; j += 32u) {
      const double u = (double)(wr[j] * sr[j / k]);
      acc += u * u;
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, off);
    if (lane == 0) d[r] = (T)(1.0 / sqrt(acc + TC_DEMOD_EPS));
  }
}

// out[e] = weight * styles (* d when `demodulate`), e indexing [N, O, I, K]
// or, with `transpose`, [N, I, O, K].
template <typename T>
__global__ void modulate_weight(T* out, const T* w, const T* s, const T* d, u32 total, u32 o, u32 i,
                                u32 k, int demodulate, int transpose) {
  TC_GRID_LOOP(e, total) {
    const u32 ki = e % k;
    u32 rest = e / k, oi, ii;
    if (transpose) {
      oi = rest % o;
      rest /= o;
      ii = rest % i;
    } else {
      ii = rest % i;
      rest /= i;
      oi = rest % o;
    }
    const u32 ni = rest / (transpose ? i : o);
    T v = w[(oi * i + ii) * k + ki] * s[ni * i + ii];
    if (demodulate) v = v * d[ni * o + oi];
    out[e] = v;
  }
}
