// CUDA fill of Philox random numbers: element i uses counter offset + i, exactly like the CPU.
#include <algorithm>
#include "engine/cuda_check.h"
#include "engine/nvtx.h"
#include "engine/philox.h"
#include "engine/rng.h"

namespace sg {

namespace {

template <class T>
__global__ void fill_random_kernel(T* __restrict__ out, int64_t n, Distribution dist, uint64_t seed, uint64_t offset) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    if constexpr (std::is_same_v<T, double>)
      out[i] = dist == Distribution::Uniform ? uniform_double(seed, offset + i) : normal_double(seed, offset + i);
    else
      out[i] = dist == Distribution::Uniform ? uniform_float(seed, offset + i) : float(normal_double(seed, offset + i));
  }
}

}  // namespace

void fill_random_cuda(const Tensor& out, Distribution dist, uint64_t seed, uint64_t offset) {
  NvtxRange range("random");
  int64_t n = out.numel();
  unsigned blocks = unsigned(std::min<int64_t>((n + 255) / 256, 65535 * 8));
  if (out.dtype() == DType::Float64)
    fill_random_kernel<<<blocks, 256, 0, current_stream()>>>(out.data<double>(), n, dist, seed, offset);
  else
    fill_random_kernel<<<blocks, 256, 0, current_stream()>>>(out.data<float>(), n, dist, seed, offset);
  CUDA_CHECK_LAUNCH("random");
}

}  // namespace sg
