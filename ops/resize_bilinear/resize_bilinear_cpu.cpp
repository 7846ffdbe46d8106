#include "engine/plane_map.h"
#include "ops/resize_bilinear/resize_bilinear_math.h"

namespace sg {

void resize_bilinear_cpu(const Tensor& out, const Tensor& x, const ResizeShape& s) {
  SG_DISPATCH_FLOAT_CPU(x.dtype(), "resize_bilinear", [&] {
    map_planes_cpu(out.data<scalar_t>(), x.data<scalar_t>(), s.N * s.C, s.H * s.W, s.Ho, s.Wo, ResizeValue<scalar_t>{s});
  });
}

}  // namespace sg
