#include <algorithm>

#include "engine/cuda_check.h"
#include "engine/nvtx.h"
#include "ops/warp_upsampled/warp_upsampled.h"
#include "ops/warp_upsampled/warp_upsampled_math.h"

namespace sg {

namespace {

// One thread per output pixel: the stencil is built once and applied to every channel, so the
// stores of neighbouring threads stay contiguous within each channel plane. K: input samples per
// axis of one upsampled sample (a template argument, so that the stencil stays in registers).
template <class T, int K>
__global__ void warp_upsampled_kernel(T* __restrict__ out, const T* __restrict__ x, const T* __restrict__ theta,
                                      const T* __restrict__ filter, int taps, WarpUpsampledShape s, WarpGeometry g) {
  const int64_t pixels = s.Ho * s.Wo;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < s.N * pixels; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = e / pixels, p = e % pixels;
    const WarpStencil<T, K> st = warp_stencil<T, K>(theta + n * 6, g, filter, taps, p / s.Wo, p % s.Wo);
    for (int64_t c = 0; c < s.C; ++c)
      out[(n * s.C + c) * pixels + p] = apply_stencil(st, x + (n * s.C + c) * s.H * s.W, s.W);
  }
}

}  // namespace

void warp_upsampled_cuda(const Tensor& out, const Tensor& x, const Tensor& theta, const Tensor& filter,
                         const WarpUpsampledShape& s) {
  NvtxRange range("warp_upsampled");
  const WarpGeometry g{s.H, s.W, s.pad.x0, s.pad.y0, s.H + s.pad.y0 + s.pad.y1, s.W + s.pad.x0 + s.pad.x1, s.Ho, s.Wo};
  const int taps = filter.defined() ? int(filter.size(0)) : 0;
  const int64_t total = s.N * s.Ho * s.Wo;
  const unsigned blocks = unsigned(std::clamp<int64_t>((total + 255) / 256, 1, 65535 * 16));
  auto launch = [&]<class T>() {
    const T* f = filter.defined() ? filter.data<T>() : nullptr;
    dispatch_stencil_width(taps, f != nullptr, [&]<int K>() {
      warp_upsampled_kernel<T, K><<<blocks, 256, 0, current_stream()>>>(out.data<T>(), x.data<T>(), theta.data<T>(), f,
                                                                        taps, s, g);
    });
  };
  if (x.dtype() == DType::Float32)
    launch.template operator()<float>();
  else
    launch.template operator()<double>();
  CUDA_CHECK_LAUNCH("warp_upsampled");
}

}  // namespace sg
