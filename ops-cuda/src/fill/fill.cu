// Constant fill and dtype conversion.

template <typename T>
__global__ void fill(T* out, u32 n, double value) {
  const T v = (T)value;
  TC_GRID_LOOP(i, n) out[i] = v;
}

// Round-to-nearest-even conversion, as Rust's `as` and the `half` crate.
template <typename S, typename D>
__global__ void cast(D* out, const S* x, u32 n) {
  TC_GRID_LOOP(i, n) out[i] = (D)x[i];
}
