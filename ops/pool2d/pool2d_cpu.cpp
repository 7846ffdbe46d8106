#include "ops/pool2d/pool2d_math.h"

namespace sg {

void pool2d_cpu(const Tensor& out, const Tensor& x, const Pool2dShape& s) {
  SG_DISPATCH_FLOAT_CPU(x.dtype(), s.is_max ? "max_pool2d" : "avg_pool2d", [&] {
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    for (int64_t plane = 0; plane < s.N * s.C; ++plane)
      for (int64_t oy = 0; oy < s.Ho; ++oy)
        for (int64_t ox = 0; ox < s.Wo; ++ox)
          po[(plane * s.Ho + oy) * s.Wo + ox] = pool2d_value(px + plane * s.H * s.W, s, oy, ox);
  });
}

}  // namespace sg
