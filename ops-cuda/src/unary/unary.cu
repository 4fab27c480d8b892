// Elementwise functions of one tensor; the op codes TC_UNARY_* are generated
// from the table in unary/mod.rs. Semantics follow ops-cpu/src/unary.rs.

template <typename T>
__device__ __forceinline__ T tc_sigmoid(T x) {
  return (T)1 / ((T)1 + tc_exp(-x));
}

template <typename T>
__device__ __forceinline__ T unary_apply(int op, T x, T p, T q) {
  const T zero = (T)0, one = (T)1;
  switch (op) {
    case TC_UNARY_NEG: return -x;
    case TC_UNARY_EXP: return tc_exp(x);
    case TC_UNARY_LOG: return tc_log(x);
    case TC_UNARY_SQRT: return tc_sqrt(x);
    case TC_UNARY_RSQRT: return one / tc_sqrt(x);
    case TC_UNARY_RECIP: return one / x;
    case TC_UNARY_ABS: return tc_abs(x);
    // Keeps 0 and NaN as they are.
    case TC_UNARY_SIGN: return x > zero ? one : (x < zero ? -one : x);
    case TC_UNARY_SQUARE: return x * x;
    case TC_UNARY_CUBE: return x * x * x;
    case TC_UNARY_TANH: return tc_tanh(x);
    case TC_UNARY_SIGMOID: return tc_sigmoid(x);
    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large |x|.
    case TC_UNARY_SOFTPLUS: return (x > zero ? x : zero) + tc_log1p(tc_exp(-tc_abs(x)));
    case TC_UNARY_RELU: return x > zero ? x : zero;
    case TC_UNARY_STEP: return x > zero ? one : zero;
    case TC_UNARY_LEAKY_RELU: return x > zero ? x : x * p;
    case TC_UNARY_LEAKY_STEP: return x > zero ? one : p;
    case TC_UNARY_ELU: return x > zero ? x : tc_expm1(x);
    // p = scale, q = alpha.
    case TC_UNARY_SELU: return x > zero ? p * x : p * q * tc_expm1(x);
    case TC_UNARY_SWISH: return x * tc_sigmoid(x);
    case TC_UNARY_POW: return tc_pow(x, p);
    case TC_UNARY_AFFINE: return x * p + q;
    // NaN stays NaN, as in PyTorch.
    case TC_UNARY_CLAMP: return x < p ? p : (x > q ? q : x);
    case TC_UNARY_IN_RANGE: return (x >= p && x <= q) ? one : zero;
  }
  return x;
}

template <typename T>
__global__ void unary(T* out, const T* x, u32 n, int op, double p, double q) {
  const T tp = (T)p, tq = (T)q;
  TC_GRID_LOOP(i, n) out[i] = unary_apply(op, x[i], tp, tq);
}
