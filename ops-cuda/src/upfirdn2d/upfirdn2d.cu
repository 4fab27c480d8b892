// One pass of upfirdn2d with a 2-D filter (a separable filter runs as two
// passes, a [1, taps] one along x, then a [taps, 1] one along y). A direct
// convolution, one thread per output element:
//
//   out[plane, oy, ox] = sum_{ky, kx} fe[ky, kx] * p[oy * downy + ky, ox * downx + kx]
//
// where p is the zero-inserted, padded plane (p[iy * upy + py0, ix * upx + px0]
// = x[iy, ix], 0 elsewhere) and fe the filter reversed (unless flip) times gain.
// Only the taps that land on input samples are visited, in the CPU kernel's
// order (ky, then kx) and with fused multiply-adds as there: the taps skipped
// would add exact zeros.

// Mirrors `UpfirdnParams` of upfirdn2d/mod.rs.
struct UpfirdnParams {
  int h, w, oh, ow;
  int fh, fw;
  int upx, upy, downx, downy;
  int px0, py0;
  int flip;
};

// The smallest k >= 0 with (t + k) % up == 0.
__device__ __forceinline__ int first_tap(int t, int up) {
  int r = (-t) % up;
  return r < 0 ? r + up : r;
}

template <typename T>
__global__ void upfirdn2d(T* out, const T* x, const T* f, u32 n, UpfirdnParams p, double gain) {
  const T g = (T)gain;
  const int taps = p.fh * p.fw;
  TC_GRID_LOOP(e, n) {
    const int ox = (int)(e % (u32)p.ow);
    const u32 rest = e / (u32)p.ow;
    const int oy = (int)(rest % (u32)p.oh);
    const T* src = x + (size_t)(rest / (u32)p.oh) * p.h * p.w;
    // Tap (ky, kx) reads input row (ty + ky) / upy when that divides exactly.
    const int ty = oy * p.downy - p.py0, tx = ox * p.downx - p.px0;
    const int kx0 = first_tap(tx, p.upx);
    T acc = (T)0;
    for (int ky = first_tap(ty, p.upy); ky < p.fh; ky += p.upy) {
      const int iy = (ty + ky) / p.upy;
      if (iy < 0 || iy >= p.h) continue;
      const T* row = src + (size_t)iy * p.w;
      for (int kx = kx0; kx < p.fw; kx += p.upx) {
        const int ix = (tx + kx) / p.upx;
        if (ix < 0 || ix >= p.w) continue;
        const int k = ky * p.fw + kx;
        const T c = f[p.flip ? k : taps - 1 - k] * g;
        acc = tc_fma(c, row[ix], acc);
      }
    }
    out[e] = acc;
  }
}
