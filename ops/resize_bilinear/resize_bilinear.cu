#include "engine/nvtx.h"
#include "engine/plane_map.cuh"
#include "ops/resize_bilinear/resize_bilinear_math.h"

namespace sg {

void resize_bilinear_cuda(const Tensor& out, const Tensor& x, const ResizeShape& s) {
  NvtxRange range("resize_bilinear");
  if (x.dtype() == DType::Float32)
    map_planes_cuda(out.data<float>(), x.data<float>(), s.N * s.C, s.H * s.W, s.Ho, s.Wo, ResizeValue<float>{s},
                    "resize_bilinear");
  else
    map_planes_cuda(out.data<double>(), x.data<double>(), s.N * s.C, s.H * s.W, s.Ho, s.Wo, ResizeValue<double>{s},
                    "resize_bilinear");
}

}  // namespace sg
