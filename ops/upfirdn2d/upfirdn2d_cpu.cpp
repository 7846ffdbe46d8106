// CPU reference loops of upfirdn2d: for every output pixel, sum the filter taps that land on
// real (non-inserted, non-padding) input pixels.
#include "ops/upfirdn2d/upfirdn2d.h"

namespace sg {

void upfirdn2d_cpu(const Tensor& out, const Tensor& x, const Tensor& f, const UpFirDnParams& p) {
  SG_DISPATCH_FLOAT_CPU(x.dtype(), "upfirdn2d", [&] {
    const scalar_t* in = x.data<scalar_t>();
    const scalar_t* filt = f.data<scalar_t>();
    scalar_t* o = out.data<scalar_t>();
    for (int64_t plane = 0; plane < int64_t(p.N) * p.C; ++plane) {
      const scalar_t* src = in + plane * p.in_h * p.in_w;
      scalar_t* dst = o + plane * p.out_h * p.out_w;
      for (int oy = 0; oy < p.out_h; ++oy) {
        for (int ox = 0; ox < p.out_w; ++ox) {
          scalar_t acc = 0;
          for (int i = 0; i < p.filter_h; ++i) {
            int uy = oy * p.down_y + i - p.pad_y0;  // row in the upsampled image
            if (uy < 0 || uy % p.up_y != 0) continue;
            int iy = uy / p.up_y;
            if (iy >= p.in_h) continue;
            for (int j = 0; j < p.filter_w; ++j) {
              int ux = ox * p.down_x + j - p.pad_x0;
              if (ux < 0 || ux % p.up_x != 0) continue;
              int ix = ux / p.up_x;
              if (ix >= p.in_w) continue;
              int fi = p.flip_filter ? i : p.filter_h - 1 - i, fj = p.flip_filter ? j : p.filter_w - 1 - j;
              acc += src[iy * p.in_w + ix] * filt[fi * p.filter_w + fj];
            }
          }
          dst[oy * p.out_w + ox] = acc;
        }
      }
    }
  });
}

}  // namespace sg
