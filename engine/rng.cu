// CUDA fill of Philox random numbers: element i uses counter offset + i, exactly like the CPU,
// and 16-bit results are rounded from the same float32 values.
#include <algorithm>

#include "engine/cuda_check.h"
#include "engine/cuda_types.cuh"
#include "engine/nvtx.h"
#include "engine/philox.h"
#include "engine/rng.h"

namespace sg {

namespace {

struct RandomFillParams {
  int64_t n;
  uint64_t seed, offset;
  Distribution dist;
  int uniform_bits;  // random bits per uniform float value (uniform_bits of the output dtype)
};

template <class T>
__global__ void fill_random_kernel(T* __restrict__ out, RandomFillParams p) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < p.n; i += int64_t(gridDim.x) * blockDim.x) {
    uint64_t counter = p.offset + uint64_t(i);
    if constexpr (std::is_same_v<T, double>)
      out[i] = p.dist == Distribution::Uniform ? uniform_double(p.seed, counter) : normal_double(p.seed, counter);
    else
      out[i] = from_compute<T>(p.dist == Distribution::Uniform ? uniform_float(p.seed, counter, p.uniform_bits)
                                                               : float(normal_double(p.seed, counter)));
  }
}

}  // namespace

void fill_random_cuda(const Tensor& out, Distribution dist, uint64_t seed, uint64_t offset) {
  SG_CHECK(out.is_cuda() && out.is_contiguous() && is_floating(out.dtype()),
           "fill_random_cuda: expected a contiguous floating CUDA tensor, got ", out.describe());
  NvtxRange range("random");
  RandomFillParams p{out.numel(), seed, offset, dist, uniform_bits(out.dtype())};
  if (p.n == 0) return;
  // Grid-stride loop: each thread draws several elements when n exceeds the grid.
  unsigned blocks = unsigned(std::min<int64_t>((p.n + 255) / 256, 65535 * 8));
  SG_DISPATCH_FLOAT_CUDA(out.dtype(), "fill_random_cuda", [&] {
    fill_random_kernel<<<blocks, 256, 0, current_stream()>>>(static_cast<scalar_t*>(out.data_ptr()), p);
  });
  CUDA_CHECK_LAUNCH("random");
}

}  // namespace sg
