// index_select / index_add and gather / scatter_add. The additions read an
// inverse index built on the host (for each target, its sources in order), so
// every sum runs in the CPU backend's order, without atomics.

// out[o, j, i] = x[o, idx[j], i].
template <typename T>
__global__ void index_select(T* out, const T* x, const u32* idx, u32 outer, u32 nidx, u32 dim,
                             u32 inner) {
  TC_GRID_LOOP(e, outer * nidx * inner) {
    u32 i = e % inner, t = e / inner;
    u32 j = t % nidx, o = t / nidx;
    out[e] = x[(o * dim + idx[j]) * inner + i];
  }
}

// out[o, d, i] = sum over q in [starts[d], starts[d+1]) of src[o, js[q], i].
template <typename T>
__global__ void index_add(T* out, const T* src, const u32* starts, const u32* js, u32 outer,
                          u32 n, u32 dim_size, u32 inner) {
  TC_GRID_LOOP(e, outer * dim_size * inner) {
    u32 i = e % inner, t = e / inner;
    u32 d = t % dim_size, o = t / dim_size;
    T acc = (T)0;
    for (u32 q = starts[d]; q < starts[d + 1]; ++q) acc += src[(o * n + js[q]) * inner + i];
    out[e] = acc;
  }
}

// Mirrors `GatherParams` of index/mod.rs.
struct GatherParams {
  int rank;
  int axis;
  int idx_dims[TC_MAX_DIMS];
  int x_strides[TC_MAX_DIMS];
};

// out[i] = x at the coordinates of i in the index's shape, with the `axis`
// coordinate replaced by idx[i].
template <typename T>
__global__ void gather(T* out, const T* x, const u32* idx, u32 n, GatherParams p) {
  TC_GRID_LOOP(e, n) {
    u32 rem = e;
    int off = 0;
#pragma unroll
    for (int d = TC_MAX_DIMS - 1; d >= 0; --d) {
      if (d < p.rank) {
        u32 dim = (u32)p.idx_dims[d];
        int c = (int)(rem % dim);
        rem /= dim;
        off += (d == p.axis ? (int)idx[e] : c) * p.x_strides[d];
      }
    }
    out[e] = x[off];
  }
}

// out[e] = sum over q in [starts[e], starts[e+1]) of src[pos[q]].
template <typename T>
__global__ void segment_sum(T* out, const T* src, const u32* starts, const u32* pos, u32 n) {
  TC_GRID_LOOP(e, n) {
    T acc = (T)0;
    for (u32 q = starts[e]; q < starts[e + 1]; ++q) acc += src[pos[q]];
    out[e] = acc;
  }
}
