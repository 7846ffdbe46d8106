#include "engine/plane_map.h"
#include "ops/pool2d/pool2d_math.h"

namespace sg {

void pool2d_cpu(const Tensor& out, const Tensor& x, const Pool2dShape& s) {
  SG_DISPATCH_FLOAT_CPU(x.dtype(), s.is_max ? "max_pool2d" : "avg_pool2d", [&] {
    map_planes_cpu(out.data<scalar_t>(), x.data<scalar_t>(), s.N * s.C, s.H * s.W, s.Ho, s.Wo, Pool2dValue<scalar_t>{s});
  });
}

}  // namespace sg
