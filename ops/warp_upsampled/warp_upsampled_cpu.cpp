#include "ops/warp_upsampled/warp_upsampled.h"
#include "ops/warp_upsampled/warp_upsampled_math.h"

namespace sg {

void warp_upsampled_cpu(const Tensor& out, const Tensor& x, const Tensor& theta, const WarpUpsampledShape& s) {
  const int64_t Hp = s.H + s.pad.y0 + s.pad.y1, Wp = s.W + s.pad.x0 + s.pad.x1, pixels = s.Ho * s.Wo;
  SG_DISPATCH_FLOAT_CPU(x.dtype(), "warp_upsampled", [&] {
    const scalar_t* px = x.data<scalar_t>();
    const scalar_t* pt = theta.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t p = 0; p < pixels; ++p) {
        UpsampledStencil<scalar_t> st = upsampled_stencil<scalar_t>(pt + n * 6, s.H, s.W, s.pad.x0, s.pad.y0, Hp, Wp, s.Ho,
                                                                    s.Wo, p / s.Wo, p % s.Wo);
        for (int64_t c = 0; c < s.C; ++c)
          po[(n * s.C + c) * pixels + p] = apply_stencil(st, px + (n * s.C + c) * s.H * s.W);
      }
  });
}

}  // namespace sg
