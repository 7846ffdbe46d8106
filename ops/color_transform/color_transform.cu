// CUDA kernel of color_transform: blockIdx.y picks the image, whose matrix and offset each thread
// keeps in registers; threads stride over its pixels, so every channel plane is read and written
// once, coalesced. 16-bit types compute in float, float64 in double.
#include <algorithm>

#include "engine/cuda_check.h"
#include "engine/cuda_types.cuh"
#include "engine/nvtx.h"
#include "ops/color_transform/color_transform.h"
#include "ops/color_transform/color_transform_math.h"

namespace sg {

namespace {

constexpr int kThreads = 256;

// The channel count is a template argument so that the matrix stays in registers.
template <class T, int kChannels>
__global__ void color_transform_kernel(T* __restrict__ out, const T* __restrict__ x, const T* __restrict__ matrix,
                                       const T* __restrict__ offset, int64_t plane) {
  using C = compute_t<T>;
  const int64_t n = blockIdx.y;
  C m[kChannels * kChannels], bias[kChannels] = {};
#pragma unroll
  for (int k = 0; k < kChannels * kChannels; ++k) m[k] = load_as_compute(matrix + n * kChannels * kChannels + k);
  if (offset) {
#pragma unroll
    for (int i = 0; i < kChannels; ++i) bias[i] = load_as_compute(offset + n * kChannels + i);
  }
  const T* xn = x + n * kChannels * plane;
  T* on = out + n * kChannels * plane;
  for (int64_t p = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; p < plane; p += int64_t(gridDim.x) * blockDim.x) {
    C in[kChannels], res[kChannels];
#pragma unroll
    for (int j = 0; j < kChannels; ++j) in[j] = load_as_compute(xn + j * plane + p);
    color_transform_pixel(res, in, 1, kChannels, m, bias);
#pragma unroll
    for (int i = 0; i < kChannels; ++i) on[i * plane + p] = from_compute<T>(res[i]);
  }
}

template <class T, int kChannels>
void launch(const dim3& grid, const Tensor& out, const Tensor& x, const Tensor& matrix, const Tensor& offset,
            int64_t plane) {
  color_transform_kernel<T, kChannels><<<grid, kThreads, 0, current_stream()>>>(
      static_cast<T*>(out.data_ptr()), static_cast<const T*>(x.data_ptr()), static_cast<const T*>(matrix.data_ptr()),
      offset.defined() ? static_cast<const T*>(offset.data_ptr()) : nullptr, plane);
}

}  // namespace

void color_transform_cuda(const Tensor& out, const Tensor& x, const Tensor& matrix, const Tensor& offset) {
  NvtxRange range("color_transform");
  const int64_t N = x.size(0), C = x.size(1), P = x.size(2);
  SG_CHECK(N <= 65535, "color_transform: at most 65535 images per call on CUDA, got ", N);
  const dim3 grid(unsigned(std::clamp<int64_t>((P + kThreads - 1) / kThreads, 1, 4096)), unsigned(N));
  SG_DISPATCH_FLOAT_CUDA(x.dtype(), "color_transform", [&] {
    switch (C) {
      case 1: return launch<scalar_t, 1>(grid, out, x, matrix, offset, P);
      case 2: return launch<scalar_t, 2>(grid, out, x, matrix, offset, P);
      case 3: return launch<scalar_t, 3>(grid, out, x, matrix, offset, P);
      case 4: return launch<scalar_t, 4>(grid, out, x, matrix, offset, P);
      default: SG_FAIL("color_transform: expected 1 to 4 channels, got ", C);
    }
  });
  CUDA_CHECK_LAUNCH("color_transform");
}

}  // namespace sg
