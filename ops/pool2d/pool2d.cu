#include <algorithm>

#include "engine/cuda_check.h"
#include "engine/nvtx.h"
#include "ops/pool2d/pool2d_math.h"

namespace sg {

namespace {

template <class T>
__global__ void pool2d_kernel(T* __restrict__ out, const T* __restrict__ x, Pool2dShape s) {
  const int64_t total = s.N * s.C * s.Ho * s.Wo;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    int64_t ox = e % s.Wo, oy = e / s.Wo % s.Ho, plane = e / (s.Wo * s.Ho);
    out[e] = pool2d_value(x + plane * s.H * s.W, s, oy, ox);
  }
}

}  // namespace

void pool2d_cuda(const Tensor& out, const Tensor& x, const Pool2dShape& s) {
  const char* name = s.is_max ? "max_pool2d" : "avg_pool2d";
  NvtxRange range(name);
  const int64_t total = out.numel();
  const unsigned blocks = unsigned(std::min<int64_t>((total + 255) / 256, 65535 * 16));
  if (x.dtype() == DType::Float32)
    pool2d_kernel<float><<<blocks, 256, 0, current_stream()>>>(out.data<float>(), x.data<float>(), s);
  else
    pool2d_kernel<double><<<blocks, 256, 0, current_stream()>>>(out.data<double>(), x.data<double>(), s);
  CUDA_CHECK_LAUNCH(name);
}

}  // namespace sg
