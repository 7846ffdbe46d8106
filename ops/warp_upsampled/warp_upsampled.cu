#include <algorithm>

#include "engine/cuda_check.h"
#include "engine/nvtx.h"
#include "ops/warp_upsampled/warp_upsampled.h"
#include "ops/warp_upsampled/warp_upsampled_math.h"

namespace sg {

namespace {

// One thread per output pixel: the stencil is built once and applied to every channel, so the
// stores of neighbouring threads stay contiguous within each channel plane.
template <class T>
__global__ void warp_upsampled_kernel(T* __restrict__ out, const T* __restrict__ x, const T* __restrict__ theta,
                                      WarpUpsampledShape s, int64_t Hp, int64_t Wp) {
  const int64_t pixels = s.Ho * s.Wo;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < s.N * pixels; e += int64_t(gridDim.x) * blockDim.x) {
    int64_t n = e / pixels, p = e % pixels;
    UpsampledStencil<T> st = upsampled_stencil<T>(theta + n * 6, s.H, s.W, s.pad.x0, s.pad.y0, Hp, Wp, s.Ho, s.Wo,
                                                  p / s.Wo, p % s.Wo);
    for (int64_t c = 0; c < s.C; ++c) out[(n * s.C + c) * pixels + p] = apply_stencil(st, x + (n * s.C + c) * s.H * s.W);
  }
}

}  // namespace

void warp_upsampled_cuda(const Tensor& out, const Tensor& x, const Tensor& theta, const WarpUpsampledShape& s) {
  NvtxRange range("warp_upsampled");
  const int64_t Hp = s.H + s.pad.y0 + s.pad.y1, Wp = s.W + s.pad.x0 + s.pad.x1;
  const int64_t total = s.N * s.Ho * s.Wo;
  const unsigned blocks = unsigned(std::min<int64_t>((total + 255) / 256, 65535 * 16));
  if (x.dtype() == DType::Float32)
    warp_upsampled_kernel<float><<<blocks, 256, 0, current_stream()>>>(out.data<float>(), x.data<float>(),
                                                                       theta.data<float>(), s, Hp, Wp);
  else
    warp_upsampled_kernel<double><<<blocks, 256, 0, current_stream()>>>(out.data<double>(), x.data<double>(),
                                                                        theta.data<double>(), s, Hp, Wp);
  CUDA_CHECK_LAUNCH("warp_upsampled");
}

}  // namespace sg
