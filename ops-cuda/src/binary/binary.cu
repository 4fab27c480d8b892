// Broadcasting elementwise functions of two tensors, and where(cond, a, b).
// The op codes TC_BINARY_* are generated from the table in binary/mod.rs.

template <typename T>
__device__ __forceinline__ T binary_apply(int op, T x, T y) {
  const T zero = (T)0, one = (T)1;
  switch (op) {
    case TC_BINARY_ADD: return x + y;
    case TC_BINARY_SUB: return x - y;
    case TC_BINARY_MUL: return x * y;
    case TC_BINARY_DIV: return x / y;
    // NaN propagates, as torch.maximum does.
    case TC_BINARY_MAXIMUM: return (tc_isnan(x) || x > y) ? x : y;
    case TC_BINARY_MINIMUM: return (tc_isnan(x) || x < y) ? x : y;
    case TC_BINARY_POW: return tc_pow(x, y);
    case TC_BINARY_GT: return x > y ? one : zero;
    case TC_BINARY_GE: return x >= y ? one : zero;
    case TC_BINARY_LT: return x < y ? one : zero;
    case TC_BINARY_LE: return x <= y ? one : zero;
    case TC_BINARY_EQ: return x == y ? one : zero;
    case TC_BINARY_NE: return x != y ? one : zero;
  }
  return x;
}

// Both operands have the output's shape and are contiguous.
template <typename T>
__global__ void binary_contig(T* out, const T* a, const T* b, u32 n, int op) {
  TC_GRID_LOOP(i, n) out[i] = binary_apply(op, a[i], b[i]);
}

// Operands 0 and 1 of the layout are a and b.
template <typename T>
__global__ void binary_strided(T* out, const T* a, const T* b, u32 n, int op, Layout l) {
  TC_GRID_LOOP(i, n) {
    int off[2];
    layout_offsets<2>(l, i, off);
    out[i] = binary_apply(op, a[off[0]], b[off[1]]);
  }
}

// Operands 0, 1 and 2 of the layout are cond, a and b.
template <typename T>
__global__ void where_strided(T* out, const T* c, const T* a, const T* b, u32 n, Layout l) {
  TC_GRID_LOOP(i, n) {
    int off[3];
    layout_offsets<3>(l, i, off);
    out[i] = c[off[0]] != (T)0 ? a[off[1]] : b[off[2]];
  }
}
