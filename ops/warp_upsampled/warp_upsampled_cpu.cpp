#include "ops/warp_upsampled/warp_upsampled.h"
#include "ops/warp_upsampled/warp_upsampled_math.h"

namespace sg {

void warp_upsampled_cpu(const Tensor& out, const Tensor& x, const Tensor& theta, const Tensor& filter,
                        const WarpUpsampledShape& s) {
  const WarpGeometry g{s.H, s.W, s.pad.x0, s.pad.y0, s.H + s.pad.y0 + s.pad.y1, s.W + s.pad.x0 + s.pad.x1, s.Ho, s.Wo};
  const int64_t pixels = s.Ho * s.Wo;
  const int taps = filter.defined() ? int(filter.size(0)) : 0;
  SG_DISPATCH_FLOAT_CPU(x.dtype(), "warp_upsampled", [&] {
    const scalar_t* px = x.data<scalar_t>();
    const scalar_t* pt = theta.data<scalar_t>();
    const scalar_t* pf = filter.defined() ? filter.data<scalar_t>() : nullptr;
    scalar_t* po = out.data<scalar_t>();
    dispatch_stencil_width(taps, pf != nullptr, [&]<int K>() {
      for (int64_t n = 0; n < s.N; ++n)
        for (int64_t p = 0; p < pixels; ++p) {
          const WarpStencil<scalar_t, K> st = warp_stencil<scalar_t, K>(pt + n * 6, g, pf, taps, p / s.Wo, p % s.Wo);
          for (int64_t c = 0; c < s.C; ++c)
            po[(n * s.C + c) * pixels + p] = apply_stencil(st, px + (n * s.C + c) * s.H * s.W, s.W);
        }
    });
  });
}

}  // namespace sg
