// Data movement without arithmetic: strided copies (broadcast, permute, flip),
// constant padding / cropping, and the row blocks of concat.

// out[i] = x[offset of i in operand 0 of the layout].
template <typename T>
__global__ void copy_strided(T* out, const T* x, u32 n, Layout l) {
  TC_GRID_LOOP(i, n) {
    int off[1];
    layout_offsets<1>(l, i, off);
    out[i] = x[off[0]];
  }
}

// Mirrors `PadParams` of movement/mod.rs.
struct PadParams {
  int rank;
  int out_dims[TC_MAX_DIMS];
  int in_dims[TC_MAX_DIMS];
  int in_strides[TC_MAX_DIMS];
  int before[TC_MAX_DIMS];
};

// Output coordinate c reads input coordinate c - before (value outside).
template <typename T>
__global__ void pad(T* out, const T* x, u32 n, PadParams p, double value) {
  const T v = (T)value;
  TC_GRID_LOOP(i, n) {
    u32 rem = i;
    int off = 0;
    bool inside = true;
#pragma unroll
    for (int d = TC_MAX_DIMS - 1; d >= 0; --d) {
      if (d < p.rank) {
        u32 dim = (u32)p.out_dims[d];
        int c = (int)(rem % dim) - p.before[d];
        rem /= dim;
        inside = inside && c >= 0 && c < p.in_dims[d];
        off += c * p.in_strides[d];
      }
    }
    T r = v;
    if (inside) r = x[off];
    out[i] = r;
  }
}

// out[r * out_ld + out_off + c] = x[r * cols + c]: one input of a concat.
template <typename T>
__global__ void copy_rows(T* out, const T* x, u32 rows, u32 cols, u32 out_ld, u32 out_off) {
  TC_GRID_LOOP(i, rows * cols) {
    u32 r = i / cols, c = i % cols;
    out[r * out_ld + out_off + c] = x[i];
  }
}
