// im2col and col2im around cuBLAS products for conv2d, conv_transpose2d and
// the conv2d weight gradient. Geometry is that of the forward convolution: an
// image-group has c channels of h x w, its output ho x wo.

// Mirrors `ConvGeom` of conv/mod.rs.
struct ConvGeom {
  int c, h, w, kh, kw, sh, sw, ph, pw, ho, wo;
};

// col[n * s_n + g * s_g + r * s_r + p] = x[n, g, ci, oy*sh + ky - ph, ox*sw + kx - pw]
// (0 outside), with r = (ci, ky, kx) and p = (oy, ox); x holds `images` images of
// `groups` groups.
template <typename T>
__global__ void im2col(T* col, const T* x, ConvGeom g, u32 images, u32 groups, u32 s_n, u32 s_g,
                       u32 s_r) {
  const u32 R = g.c * g.kh * g.kw, P = g.ho * g.wo;
  TC_GRID_LOOP(i, images * groups * R * P) {
    u32 p = i % P, t = i / P;
    u32 r = t % R;
    t /= R;
    u32 gi = t % groups, n = t / groups;
    u32 kx = r % g.kw, t2 = r / g.kw;
    u32 ky = t2 % g.kh, ci = t2 / g.kh;
    int iy = (int)((p / g.wo) * g.sh + ky) - g.ph;
    int ix = (int)((p % g.wo) * g.sw + kx) - g.pw;
    T v = (T)0;
    if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w)
      v = x[((n * groups + gi) * g.c + ci) * (u32)(g.h * g.w) + iy * g.w + ix];
    col[n * s_n + gi * s_g + r * s_r + p] = v;
  }
}

// The adjoint of im2col for col laid out [ig][r][p]: every x element sums its
// (ky, kx) contributions in that order, as the CPU backend does.
template <typename T>
__global__ void col2im(T* x, const T* col, ConvGeom g, u32 image_groups) {
  const u32 R = g.c * g.kh * g.kw, P = g.ho * g.wo;
  TC_GRID_LOOP(i, image_groups * g.c * g.h * g.w) {
    int ix = (int)(i % g.w);
    u32 t = i / g.w;
    int iy = (int)(t % g.h);
    t /= g.h;
    u32 ci = t % g.c, ig = t / g.c;
    const T* cg = col + ig * R * P;
    T acc = (T)0;
    for (int ky = 0; ky < g.kh; ++ky) {
      int ty = iy + g.ph - ky;
      if (ty < 0 || ty % g.sh != 0) continue;
      int oy = ty / g.sh;
      if (oy >= g.ho) continue;
      for (int kx = 0; kx < g.kw; ++kx) {
        int tx = ix + g.pw - kx;
        if (tx < 0 || tx % g.sw != 0) continue;
        int ox = tx / g.sw;
        if (ox >= g.wo) continue;
        acc += cg[((ci * g.kh + ky) * g.kw + kx) * P + oy * g.wo + ox];
      }
    }
    x[i] = acc;
  }
}
