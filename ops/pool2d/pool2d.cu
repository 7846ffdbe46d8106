#include "engine/nvtx.h"
#include "engine/plane_map.cuh"
#include "ops/pool2d/pool2d_math.h"

namespace sg {

void pool2d_cuda(const Tensor& out, const Tensor& x, const Pool2dShape& s) {
  const char* name = s.is_max ? "max_pool2d" : "avg_pool2d";
  NvtxRange range(name);
  if (x.dtype() == DType::Float32)
    map_planes_cuda(out.data<float>(), x.data<float>(), s.N * s.C, s.H * s.W, s.Ho, s.Wo, Pool2dValue<float>{s}, name);
  else
    map_planes_cuda(out.data<double>(), x.data<double>(), s.N * s.C, s.H * s.W, s.Ho, s.Wo, Pool2dValue<double>{s}, name);
}

}  // namespace sg
