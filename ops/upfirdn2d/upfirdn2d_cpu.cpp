// CPU reference loops of upfirdn2d: for every output pixel, sum the filter taps that land on
// real (non-inserted, non-padding) input pixels. A separable filter runs as the official CUDA
// path does: a horizontal pass into a buffer of in_h rows, then a vertical pass.
#include <vector>

#include "ops/upfirdn2d/upfirdn2d.h"

namespace sg {

namespace {

// Correlation-oriented tap k of an n-tap axis (flip_filter = false convolves: taps reversed).
inline int corr_tap(int k, int n, bool flip) { return flip ? k : n - 1 - k; }

// One 1-D pass along an axis: out[o] = sum_k f[k] * in[(o * down + k - pad0) / up] over the
// positions that fall on real samples. in and out are strided by in_step and out_step.
template <class S>
void fir_line(const S* in, int64_t in_step, int in_n, S* out, int64_t out_step, int out_n, const S* f, int taps,
              int up, int down, int pad0, bool flip) {
  for (int o = 0; o < out_n; ++o) {
    S acc = 0;
    for (int k = 0; k < taps; ++k) {
      int u = o * down + k - pad0;  // position in the upsampled, padded line
      if (u < 0 || u % up != 0 || u / up >= in_n) continue;
      acc += in[int64_t(u / up) * in_step] * f[corr_tap(k, taps, flip)];
    }
    out[int64_t(o) * out_step] = acc;
  }
}

}  // namespace

void upfirdn2d_cpu(const Tensor& out, const Tensor& x, const Tensor& f, const UpFirDnParams& p) {
  SG_DISPATCH_FLOAT_CPU(x.dtype(), "upfirdn2d", [&] {
    const scalar_t* in = x.data<scalar_t>();
    const scalar_t* filt = f.data<scalar_t>();
    scalar_t* o = out.data<scalar_t>();
    std::vector<scalar_t> rows(p.separable ? size_t(p.in_h) * p.out_w : 0);  // horizontal pass result
    for (int n = 0; n < p.N; ++n) {
      for (int c = 0; c < p.C; ++c) {
        const scalar_t* src = in + n * p.stride_n + c * p.stride_c;
        scalar_t* dst = o + (int64_t(n) * p.C + c) * p.out_h * p.out_w;
        if (p.separable) {
          for (int iy = 0; iy < p.in_h; ++iy)
            fir_line(src + iy * p.stride_h, p.stride_w, p.in_w, rows.data() + int64_t(iy) * p.out_w, 1, p.out_w, filt,
                     p.filter_w, p.up_x, p.down_x, p.pad_x0, p.flip_filter);
          for (int ox = 0; ox < p.out_w; ++ox)
            fir_line(rows.data() + ox, p.out_w, p.in_h, dst + ox, p.out_w, p.out_h, filt, p.filter_h, p.up_y, p.down_y,
                     p.pad_y0, p.flip_filter);
          continue;
        }
        for (int oy = 0; oy < p.out_h; ++oy) {
          for (int ox = 0; ox < p.out_w; ++ox) {
            scalar_t acc = 0;
            for (int i = 0; i < p.filter_h; ++i) {
              int uy = oy * p.down_y + i - p.pad_y0;  // row in the upsampled, padded image
              if (uy < 0 || uy % p.up_y != 0 || uy / p.up_y >= p.in_h) continue;
              const scalar_t* src_row = src + int64_t(uy / p.up_y) * p.stride_h;
              const scalar_t* f_row = filt + int64_t(corr_tap(i, p.filter_h, p.flip_filter)) * p.filter_w;
              for (int j = 0; j < p.filter_w; ++j) {
                int ux = ox * p.down_x + j - p.pad_x0;
                if (ux < 0 || ux % p.up_x != 0 || ux / p.up_x >= p.in_w) continue;
                acc += src_row[int64_t(ux / p.up_x) * p.stride_w] * f_row[corr_tap(j, p.filter_w, p.flip_filter)];
              }
            }
            dst[int64_t(oy) * p.out_w + ox] = acc;
          }
        }
      }
    }
  });
}

}  // namespace sg
