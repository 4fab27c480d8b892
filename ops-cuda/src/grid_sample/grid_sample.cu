// Bilinear grid_sample and its adjoint, with PyTorch's coordinate arithmetic.
// The adjoint runs one thread per (image, channel) over the output positions in
// order, so its sums follow the CPU backend's order without atomics.

template <typename T>
__device__ __forceinline__ T source_index(T coord, int size, int align_corners, int border) {
  T s = (T)size;
  T v = align_corners ? (coord + (T)1) / (T)2 * (s - (T)1) : ((coord + (T)1) * s - (T)1) / (T)2;
  if (border) v = v < (T)0 ? (T)0 : (v > s - (T)1 ? s - (T)1 : v);
  return v;
}

// The four corners of a sampling position: offsets into a plane and weights,
// weight 0 (offset 0) for corners outside the input.
template <typename T>
__device__ __forceinline__ void corners(T gx, T gy, int h, int w, int align_corners, int border,
                                        int* off, T* wt) {
  T ix = source_index(gx, w, align_corners, border);
  T iy = source_index(gy, h, align_corners, border);
  T x0 = floor(ix), y0 = floor(iy);
  T x1 = x0 + (T)1, y1 = y0 + (T)1;
  T ws[4] = {(x1 - ix) * (y1 - iy), (ix - x0) * (y1 - iy), (x1 - ix) * (iy - y0), (ix - x0) * (iy - y0)};
  T xs[4] = {x0, x1, x0, x1};
  T ys[4] = {y0, y0, y1, y1};
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    bool in = xs[k] >= (T)0 && ys[k] >= (T)0 && xs[k] < (T)w && ys[k] < (T)h;
    off[k] = in ? (int)ys[k] * w + (int)xs[k] : 0;
    wt[k] = in ? ws[k] : (T)0;
  }
}

// out[n, c, p] = sum_k x[n, c, corner_k(p)] * w_k(p); one thread per (n, p).
template <typename T>
__global__ void grid_sample(T* out, const T* x, const T* grid, u32 n, u32 c, u32 h, u32 w,
                            u32 plane_out, int align_corners, int border) {
  TC_GRID_LOOP(e, n * plane_out) {
    u32 p = e % plane_out, ni = e / plane_out;
    int off[4];
    T wt[4];
    corners(grid[2 * e], grid[2 * e + 1], (int)h, (int)w, align_corners, border, off, wt);
    const T* xin = x + (size_t)ni * c * h * w;
    T* o = out + (size_t)ni * c * plane_out + p;
    for (u32 ci = 0; ci < c; ++ci) {
      const T* src = xin + (size_t)ci * h * w;
      T acc = (T)0;
#pragma unroll
      for (int k = 0; k < 4; ++k) acc += src[off[k]] * wt[k];
      o[(size_t)ci * plane_out] = acc;
    }
  }
}

// dx[n, c, :] = sum over p of dy[n, c, p] * w_k(p) at corner_k(p); dx zeroed.
template <typename T>
__global__ void grid_sample_backward(T* dx, const T* dy, const T* grid, u32 n, u32 c, u32 h,
                                     u32 w, u32 plane_out, int align_corners, int border) {
  TC_GRID_LOOP(e, n * c) {
    u32 ni = e / c;
    const T* g = grid + (size_t)ni * plane_out * 2;
    const T* d = dy + (size_t)e * plane_out;
    T* dst = dx + (size_t)e * h * w;
    for (u32 p = 0; p < plane_out; ++p) {
      int off[4];
      T wt[4];
      corners(g[2 * p], g[2 * p + 1], (int)h, (int)w, align_corners, border, off, wt);
      T v = d[p];
#pragma unroll
      for (int k = 0; k < 4; ++k) dst[off[k]] += v * wt[k];
    }
  }
}
