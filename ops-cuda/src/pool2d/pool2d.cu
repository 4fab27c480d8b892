// Max and average pooling, the adjoint of average pooling, and the argmax of
// max pooling. One thread per output (or, for the adjoint, per input) element:
// the adjoint gathers from the windows that contain its element, in output
// order, so it needs no atomics.

// Mirrors `PoolParams` of pool2d/mod.rs.
struct PoolParams {
  int h, w, ho, wo;
  int kh, kw, sh, sw, ph, pw;
  int is_max, count_include_pad;
};

__device__ __forceinline__ void window(int o, int k, int s, int p, int n, int* lo, int* hi) {
  int start = o * s - p;
  *lo = start < 0 ? 0 : start;
  int end = start + k;
  *hi = end > n ? n : end;
  if (*hi < *lo) *hi = *lo;
}

// The first maximum of a window (NaN wins) and its flat index in the plane.
template <typename T>
__device__ __forceinline__ void window_max(const T* plane, const PoolParams& p, int r0, int r1,
                                           int c0, int c1, T* best, u32* at) {
  *best = -tc_inf<T>();
  *at = (u32)(r0 * p.w + c0);
  for (int iy = r0; iy < r1; ++iy) {
    for (int ix = c0; ix < c1; ++ix) {
      T v = plane[iy * p.w + ix];
      if (v > *best || v != v) {
        *best = v;
        *at = (u32)(iy * p.w + ix);
        if (v != v) return;
      }
    }
  }
}

template <typename T>
__global__ void pool2d(T* out, const T* x, u32 n, PoolParams p) {
  TC_GRID_LOOP(e, n) {
    int plane_out = p.ho * p.wo;
    int ox = (int)(e % (u32)p.wo), oy = (int)((e / (u32)p.wo) % (u32)p.ho);
    const T* plane = x + (size_t)(e / (u32)plane_out) * p.h * p.w;
    int r0, r1, c0, c1;
    window(oy, p.kh, p.sh, p.ph, p.h, &r0, &r1);
    window(ox, p.kw, p.sw, p.pw, p.w, &c0, &c1);
    if (p.is_max) {
      T best;
      u32 at;
      window_max(plane, p, r0, r1, c0, c1, &best, &at);
      out[e] = best;
    } else {
      T sum = (T)0;
      for (int iy = r0; iy < r1; ++iy)
        for (int ix = c0; ix < c1; ++ix) sum += plane[iy * p.w + ix];
      int cnt = (r1 - r0) * (c1 - c0);
      int div = p.count_include_pad ? p.kh * p.kw : (cnt > 0 ? cnt : 1);
      out[e] = sum / (T)div;
    }
  }
}

template <typename T>
__global__ void max_pool2d_argmax(u32* out, const T* x, u32 n, PoolParams p) {
  TC_GRID_LOOP(e, n) {
    int plane_out = p.ho * p.wo;
    int ox = (int)(e % (u32)p.wo), oy = (int)((e / (u32)p.wo) % (u32)p.ho);
    const T* plane = x + (size_t)(e / (u32)plane_out) * p.h * p.w;
    int r0, r1, c0, c1;
    window(oy, p.kh, p.sh, p.ph, p.h, &r0, &r1);
    window(ox, p.kw, p.sw, p.pw, p.w, &c0, &c1);
    T best;
    u32 at;
    window_max(plane, p, r0, r1, c0, c1, &best, &at);
    out[e] = at;
  }
}

// dx[i] = sum over the windows o that contain i of dy[o] / divisor(o).
template <typename T>
__global__ void avg_pool2d_backward(T* dx, const T* dy, u32 n, PoolParams p) {
  TC_GRID_LOOP(e, n) {
    int ix = (int)(e % (u32)p.w), iy = (int)((e / (u32)p.w) % (u32)p.h);
    const T* g = dy + (size_t)(e / (u32)(p.h * p.w)) * p.ho * p.wo;
    // Output rows whose window [oy*s - p, oy*s - p + k) holds iy.
    int oy0 = iy + p.ph - p.kh + 1;
    oy0 = oy0 <= 0 ? 0 : (oy0 + p.sh - 1) / p.sh;
    int oy1 = (iy + p.ph) / p.sh;
    if (oy1 > p.ho - 1) oy1 = p.ho - 1;
    int ox0 = ix + p.pw - p.kw + 1;
    ox0 = ox0 <= 0 ? 0 : (ox0 + p.sw - 1) / p.sw;
    int ox1 = (ix + p.pw) / p.sw;
    if (ox1 > p.wo - 1) ox1 = p.wo - 1;
    T acc = (T)0;
    for (int oy = oy0; oy <= oy1; ++oy) {
      int r0, r1;
      window(oy, p.kh, p.sh, p.ph, p.h, &r0, &r1);
      for (int ox = ox0; ox <= ox1; ++ox) {
        int c0, c1;
        window(ox, p.kw, p.sw, p.pw, p.w, &c0, &c1);
        int cnt = (r1 - r0) * (c1 - c0);
        int div = p.count_include_pad ? p.kh * p.kw : (cnt > 0 ? cnt : 1);
        acc += g[oy * p.wo + ox] / (T)div;
      }
    }
    dx[e] = acc;
  }
}
