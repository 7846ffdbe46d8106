#include "ops/resize_bilinear/resize_bilinear_math.h"

namespace sg {

void resize_bilinear_cpu(const Tensor& out, const Tensor& x, const ResizeShape& s) {
  SG_DISPATCH_FLOAT_CPU(x.dtype(), "resize_bilinear", [&] {
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    for (int64_t plane = 0; plane < s.N * s.C; ++plane)
      for (int64_t oy = 0; oy < s.Ho; ++oy)
        for (int64_t ox = 0; ox < s.Wo; ++ox)
          po[(plane * s.Ho + oy) * s.Wo + ox] = resize_value(px + plane * s.H * s.W, s, oy, ox);
  });
}

}  // namespace sg
