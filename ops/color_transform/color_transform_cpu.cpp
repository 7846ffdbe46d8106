// CPU loop of color_transform: image by image, pixel by pixel.
#include "ops/color_transform/color_transform.h"
#include "ops/color_transform/color_transform_math.h"

namespace sg {

void color_transform_cpu(const Tensor& out, const Tensor& x, const Tensor& matrix, const Tensor& offset) {
  const int64_t N = x.size(0), C = x.size(1), P = x.size(2);
  SG_DISPATCH_FLOAT_CPU(x.dtype(), "color_transform", [&] {
    const scalar_t* m = matrix.data<scalar_t>();
    for (int64_t n = 0; n < N; ++n) {
      scalar_t bias[kColorTransformMaxChannels] = {};
      if (offset.defined())
        for (int64_t i = 0; i < C; ++i) bias[i] = offset.data<scalar_t>()[n * C + i];
      const scalar_t* xn = x.data<scalar_t>() + n * C * P;
      scalar_t* on = out.data<scalar_t>() + n * C * P;
      for (int64_t p = 0; p < P; ++p) color_transform_pixel(on + p, xn + p, P, int(C), m + n * C * C, bias);
    }
  });
}

}  // namespace sg
