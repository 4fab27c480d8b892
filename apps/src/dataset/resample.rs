//! Pillow-compatible `Image.resize` for 8-bit images: the same separable, antialiased
//! convolution (filter support scaled by the reduction factor), the same 22-bit fixed-point
//! coefficients and rounding, the same choice of which pass runs first (8-bit result in
//! between), so that outputs are byte-identical to Pillow's for the BOX and LANCZOS filters.

use super::image::Image;

/// `--resize-filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResizeFilter {
    Box,
    #[default]
    Lanczos,
}

impl ResizeFilter {
    fn support(self) -> f64 {
        match self {
            ResizeFilter::Box => 0.5,
            ResizeFilter::Lanczos => 3.0,
        }
    }

    fn eval(self, x: f64) -> f64 {
        match self {
            ResizeFilter::Box => {
                if x > -0.5 && x <= 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
            ResizeFilter::Lanczos => {
                if (-3.0..3.0).contains(&x) {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
        }
    }
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    let x = x * std::f64::consts::PI;
    x.sin() / x
}

const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Per output sample: first input index, number of taps, and the fixed-point weights.
struct Coeffs {
    ksize: usize,
    bounds: Vec<(usize, usize)>,
    weights: Vec<i32>,
}

/// [`precompute`], remembered per thread: a data set resizes many images between the same sizes.
fn coeffs(in_size: usize, out_size: usize, filter: ResizeFilter) -> std::rc::Rc<Coeffs> {
    type Cache = Vec<((usize, usize, ResizeFilter), std::rc::Rc<Coeffs>)>;
    thread_local!(static CACHE: std::cell::RefCell<Cache> = const { std::cell::RefCell::new(Vec::new()) });
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let key = (in_size, out_size, filter);
        if let Some((_, c)) = cache.iter().find(|(k, _)| *k == key) {
            return c.clone();
        }
        let c = std::rc::Rc::new(precompute(in_size, out_size, filter));
        if cache.len() >= 8 {
            cache.remove(0);
        }
        cache.push((key, c.clone()));
        c
    })
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the whole input range.
fn precompute(in_size: usize, out_size: usize, filter: ResizeFilter) -> Coeffs {
    let (in0, in1) = (0.0f32, in_size as f32);
    let scale = (in1 - in0) as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = filter.support() * filterscale;
    let ksize = support.ceil() as usize * 2 + 1;
    let mut bounds = Vec::with_capacity(out_size);
    let mut weights = vec![0i32; out_size * ksize];
    let mut k = vec![0f64; ksize];
    for xx in 0..out_size {
        let center = in0 as f64 + (xx as f64 + 0.5) * scale;
        let ss = 1.0 / filterscale;
        // C casts truncate toward zero; negatives clamp to 0 right after.
        let xmin = ((center - support + 0.5) as i64).max(0) as usize;
        let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
        let n = xmax.saturating_sub(xmin);
        let mut ww = 0.0;
        for (x, kx) in k.iter_mut().enumerate().take(n) {
            let w = filter.eval((x as f64 + xmin as f64 - center + 0.5) * ss);
            *kx = w;
            ww += w;
        }
        let row = &mut weights[xx * ksize..(xx + 1) * ksize];
        for x in 0..n {
            let v = if ww != 0.0 { k[x] / ww } else { k[x] };
            let scaled = v * (1u32 << PRECISION_BITS) as f64;
            row[x] = if v < 0.0 {
                (scaled - 0.5) as i32
            } else {
                (scaled + 0.5) as i32
            };
        }
        bounds.push((xmin, n));
    }
    Coeffs {
        ksize,
        bounds,
        weights,
    }
}

#[inline]
fn clip8(v: i32) -> u8 {
    if v >= (1i32 << PRECISION_BITS << 8) {
        255
    } else if v <= 0 {
        0
    } else {
        (v >> PRECISION_BITS) as u8
    }
}

const HALF: i32 = 1 << (PRECISION_BITS - 1);

/// Resizes to `width` x `height` like Pillow's `Image.resize((width, height), filter)`.
///
/// Pillow resamples in two 8-bit passes. Up to 9.x the horizontal pass always ran first;
/// Pillow 13 runs the vertical pass first when the image loses more than twice as many rows as
/// columns (`H - h > 2 * (W - w)` with `h < H`). We follow Pillow 13. The two agree whenever
/// the input and output are both square, as after `center-crop`.
pub fn resize(img: &Image, width: usize, height: usize, filter: ResizeFilter) -> Image {
    assert!(width > 0 && height > 0, "resize to an empty image");
    let need_h = width != img.width;
    let need_v = height != img.height;
    match (need_h, need_v) {
        (false, false) => img.clone(),
        (true, false) => horizontal(img, 0, img.height, width, filter),
        (false, true) => vertical(img, height, filter),
        (true, true) => {
            let vertical_first = height < img.height
                && (img.height - height) as i64 > 2 * (img.width as i64 - width as i64);
            if vertical_first {
                let tmp = vertical(img, height, filter);
                horizontal(&tmp, 0, height, width, filter)
            } else {
                // Only the rows the vertical pass reads are resampled horizontally.
                let cv = coeffs(img.height, height, filter);
                let first = cv.bounds[0].0;
                let last = cv.bounds[height - 1].0 + cv.bounds[height - 1].1;
                let tmp = horizontal(img, first, last, width, filter);
                vertical_with(&tmp, &cv, first)
            }
        }
    }
}

/// Horizontal pass over rows `first..last` of `img`.
///
/// Run as a vertical pass on the transposed image: every output sample is the same exact
/// integer sum as in Pillow (integer addition does not care about order), but the inner loop
/// runs over contiguous memory and vectorises.
fn horizontal(img: &Image, first: usize, last: usize, width: usize, filter: ResizeFilter) -> Image {
    let ch = coeffs(img.width, width, filter);
    let c = img.channels;
    let rows = last - first;
    let region = &img.data[first * img.width * c..last * img.width * c];
    // Transposed source: one line per source column, holding `rows` pixels.
    let t = transpose(region, img.width, rows, c);
    let filtered = filter_lines(&t, rows * c, &ch, 0);
    let out = transpose(&filtered, rows, width, c);
    Image::new(width, rows, c, out)
}

/// Swaps the axes of a `h` x `w` image of `c`-byte pixels.
fn transpose(data: &[u8], w: usize, h: usize, c: usize) -> Vec<u8> {
    match c {
        1 => transpose_c::<1>(data, w, h),
        2 => transpose_c::<2>(data, w, h),
        3 => transpose_c::<3>(data, w, h),
        4 => transpose_c::<4>(data, w, h),
        _ => panic!("resize: {c} channels"),
    }
}

/// In 16x16-pixel tiles, so that reads and writes both stay in cache.
fn transpose_c<const C: usize>(data: &[u8], w: usize, h: usize) -> Vec<u8> {
    const TILE: usize = 16;
    let mut out = vec![0u8; data.len()];
    for y0 in (0..h).step_by(TILE) {
        for x0 in (0..w).step_by(TILE) {
            for y in y0..(y0 + TILE).min(h) {
                let row = &data[y * w * C..(y + 1) * w * C];
                for x in x0..(x0 + TILE).min(w) {
                    let at = (x * h + y) * C;
                    let dst: &mut [u8; C] = (&mut out[at..at + C]).try_into().unwrap();
                    *dst = row[x * C..x * C + C].try_into().unwrap();
                }
            }
        }
    }
    out
}

/// Output line `i` = sum over taps `t` of `weights[i][t] * lines[bounds[i].0 - offset + t]`,
/// rounded and clipped like Pillow; `lines` holds lines of `stride` bytes.
fn filter_lines(lines: &[u8], stride: usize, cf: &Coeffs, offset: usize) -> Vec<u8> {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of the
        // target-feature function; its body is the same safe code as the portable version.
        return unsafe { filter_lines_avx2(lines, stride, cf, offset) };
    }
    filter_lines_portable(lines, stride, cf, offset)
}

/// The same loop compiled for AVX2, where the 32-bit multiplies vectorise 8 wide (the x86-64
/// baseline, SSE2, has no packed 32-bit multiply).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn filter_lines_avx2(lines: &[u8], stride: usize, cf: &Coeffs, offset: usize) -> Vec<u8> {
    filter_lines_portable(lines, stride, cf, offset)
}

#[inline(always)]
fn filter_lines_portable(lines: &[u8], stride: usize, cf: &Coeffs, offset: usize) -> Vec<u8> {
    let n_out = cf.bounds.len();
    let mut out = vec![0u8; stride * n_out];
    let mut acc = vec![0i32; stride];
    for (i, dst) in out.chunks_exact_mut(stride).enumerate() {
        let (start, n) = cf.bounds[i];
        let start = start - offset;
        let k = &cf.weights[i * cf.ksize..i * cf.ksize + n];
        acc.fill(HALF);
        // Sums are i32 as in Pillow: normalised weights keep them far below overflow.
        for (src, &w) in lines[start * stride..(start + n) * stride]
            .chunks_exact(stride)
            .zip(k)
        {
            for (a, &v) in acc.iter_mut().zip(src) {
                *a += v as i32 * w;
            }
        }
        for (d, &a) in dst.iter_mut().zip(&acc) {
            *d = clip8(a);
        }
    }
    out
}

fn vertical(img: &Image, height: usize, filter: ResizeFilter) -> Image {
    let cv = coeffs(img.height, height, filter);
    vertical_with(img, &cv, 0)
}

/// Vertical pass; `img` row 0 is source row `offset` (the horizontal pass skipped rows above).
fn vertical_with(img: &Image, cv: &Coeffs, offset: usize) -> Image {
    let stride = img.width * img.channels;
    let out = filter_lines(&img.data, stride, cv, offset);
    Image::new(img.width, cv.bounds.len(), img.channels, out)
}
