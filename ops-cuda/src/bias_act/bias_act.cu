// Fused bias + activation + gain + clamp, and its gradient: one thread per
// element, the activation chosen by an op code TC_ACT_* (uniform across the
// grid). Formulas follow ops-cpu/src/bias_act.rs (PyTorch's: softplus with
// threshold 20, elu with alpha 1).

template <typename T>
__device__ __forceinline__ T act_sigmoid(T z) {
  return (T)1 / ((T)1 + tc_exp(-z));
}

// act(z) into *a and act'(z) into *d; the compiler drops whichever the caller
// does not use.
template <typename T>
__device__ __forceinline__ void act_and_deriv(int act, T z, T alpha, T* a, T* d) {
  const T zero = (T)0, one = (T)1;
  switch (act) {
    case TC_ACT_RELU:
      *a = z > zero ? z : zero;
      *d = z > zero ? one : zero;
      return;
    case TC_ACT_LRELU:
      *a = z > zero ? z : z * alpha;
      *d = z > zero ? one : alpha;
      return;
    case TC_ACT_TANH: {
      T t = tc_tanh(z);
      *a = t;
      *d = one - t * t;
      return;
    }
    case TC_ACT_SIGMOID: {
      T s = act_sigmoid(z);
      *a = s;
      *d = s * (one - s);
      return;
    }
    case TC_ACT_ELU:
      if (z > zero) {
        *a = z;
        *d = one;
      } else {
        *a = tc_expm1(z);
        *d = tc_exp(z);
      }
      return;
    case TC_ACT_SELU: {
      const T s = (T)TC_SELU_SCALE, sa = s * (T)TC_SELU_ALPHA;
      if (z > zero) {
        *a = s * z;
        *d = s;
      } else {
        *a = sa * tc_expm1(z);
        *d = sa * tc_exp(z);
      }
      return;
    }
    case TC_ACT_SOFTPLUS:
      if (z > (T)20) {
        *a = z;
        *d = one;
      } else {
        T e = tc_exp(z);
        *a = tc_log1p(e);
        *d = e / (e + one);
      }
      return;
    case TC_ACT_SWISH: {
      T s = act_sigmoid(z);
      *a = z * s;
      *d = s + z * s * (one - s);
      return;
    }
    case TC_ACT_LINEAR:
    default:
      *a = z;
      *d = one;
      return;
  }
}

// x viewed as [outer, channels, inner]; b (null when absent) has one value per
// channel.
template <typename T>
__device__ __forceinline__ T bias_of(const T* b, u32 i, u32 channels, u32 inner) {
  return b ? b[(i / inner) % channels] : (T)0;
}

// out = clamp(act(x + b) * gain, -clamp, clamp); NaN stays NaN.
template <typename T>
__global__ void bias_act(T* out, const T* x, const T* b, u32 n, u32 channels, u32 inner, int act,
                         double alpha, double gain, int clamped, double clamp) {
  const T ta = (T)alpha, tg = (T)gain, lo = (T)(-clamp), hi = (T)clamp;
  TC_GRID_LOOP(i, n) {
    T a, d;
    act_and_deriv(act, x[i] + bias_of(b, i, channels, inner), ta, &a, &d);
    T y = a * tg;
    if (clamped) {
      y = y < lo ? lo : y;
      y = y > hi ? hi : y;
    }
    out[i] = y;
  }
}

// out = dy * gain * act'(x + b), zero where the unclamped output lies outside
// [-clamp, clamp] (inclusive bounds, NaN counts as outside).
template <typename T>
__global__ void bias_act_grad(T* out, const T* dy, const T* x, const T* b, u32 n, u32 channels,
                              u32 inner, int act, double alpha, double gain, int clamped,
                              double clamp) {
  const T ta = (T)alpha, tg = (T)gain, lo = (T)(-clamp), hi = (T)clamp;
  TC_GRID_LOOP(i, n) {
    T a, d;
    act_and_deriv(act, x[i] + bias_of(b, i, channels, inner), ta, &a, &d);
    if (clamped) {
      T y = a * tg;
      d = (y >= lo && y <= hi) ? d : (T)0;
    }
    out[i] = dy[i] * tg * d;
  }
}
