#include <algorithm>

#include "engine/cuda_check.h"
#include "engine/nvtx.h"
#include "ops/resize_bilinear/resize_bilinear_math.h"

namespace sg {

namespace {

template <class T>
__global__ void resize_bilinear_kernel(T* __restrict__ out, const T* __restrict__ x, ResizeShape s) {
  const int64_t total = s.N * s.C * s.Ho * s.Wo;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    int64_t ox = e % s.Wo, oy = e / s.Wo % s.Ho, plane = e / (s.Wo * s.Ho);
    out[e] = resize_value(x + plane * s.H * s.W, s, oy, ox);
  }
}

}  // namespace

void resize_bilinear_cuda(const Tensor& out, const Tensor& x, const ResizeShape& s) {
  NvtxRange range("resize_bilinear");
  const int64_t total = out.numel();
  const unsigned blocks = unsigned(std::min<int64_t>((total + 255) / 256, 65535 * 16));
  if (x.dtype() == DType::Float32)
    resize_bilinear_kernel<float><<<blocks, 256, 0, current_stream()>>>(out.data<float>(), x.data<float>(), s);
  else
    resize_bilinear_kernel<double><<<blocks, 256, 0, current_stream()>>>(out.data<double>(), x.data<double>(), s);
  CUDA_CHECK_LAUNCH("resize_bilinear");
}

}  // namespace sg
