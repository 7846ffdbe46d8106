// CUDA kernels of grid_sample: one thread per output pixel computes the bilinear footprint once
// and loops over channels (neighbouring threads write neighbouring outputs of a channel plane);
// the input gradient scatters with atomicAdd. 16-bit types compute and accumulate in float.
#include <algorithm>

#include "engine/cuda_check.h"
#include "engine/cuda_types.cuh"
#include "engine/nvtx.h"
#include "ops/grid_sample/grid_sample.h"
#include "ops/grid_sample/grid_sample_math.h"

namespace sg {

namespace {

template <class T>
__global__ void grid_sample_forward_kernel(T* __restrict__ out, const T* __restrict__ x, const T* __restrict__ grid,
                                           GridSampleShape s) {
  using C = compute_t<T>;
  int64_t pixels = s.Ho * s.Wo;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < s.N * pixels; e += int64_t(gridDim.x) * blockDim.x) {
    int64_t n = e / pixels, p = e % pixels;
    Bilinear<C> b = bilinear_footprint<C>(load_as_compute(grid + e * 2), load_as_compute(grid + e * 2 + 1), s.H, s.W);
    for (int64_t c = 0; c < s.C; ++c) {
      const T* plane = x + (n * s.C + c) * s.H * s.W;
      C acc = 0;
#pragma unroll
      for (int k = 0; k < 4; ++k)
        if (b.index[k] >= 0) acc += load_as_compute(plane + b.index[k]) * b.weight[k];
      out[(n * s.C + c) * pixels + p] = from_compute<T>(acc);
    }
  }
}

// dx is in the compute type: float for 16-bit T, since 16-bit atomics would round at every add.
template <class T>
__global__ void grid_sample_backward_kernel(compute_t<T>* __restrict__ dx, const T* __restrict__ dy,
                                            const T* __restrict__ grid, GridSampleShape s) {
  using C = compute_t<T>;
  int64_t pixels = s.Ho * s.Wo;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < s.N * pixels; e += int64_t(gridDim.x) * blockDim.x) {
    int64_t n = e / pixels, p = e % pixels;
    Bilinear<C> b = bilinear_footprint<C>(load_as_compute(grid + e * 2), load_as_compute(grid + e * 2 + 1), s.H, s.W);
    for (int64_t c = 0; c < s.C; ++c) {
      C v = load_as_compute(dy + (n * s.C + c) * pixels + p);
      C* plane = dx + (n * s.C + c) * s.H * s.W;
#pragma unroll
      for (int k = 0; k < 4; ++k)
        if (b.index[k] >= 0) atomicAdd(plane + b.index[k], v * b.weight[k]);
    }
  }
}

unsigned blocks_for(int64_t n) { return unsigned(std::min<int64_t>((n + 255) / 256, 65535 * 16)); }

}  // namespace

void grid_sample_forward_cuda(const Tensor& out, const Tensor& x, const Tensor& grid, const GridSampleShape& s) {
  NvtxRange range("grid_sample");
  SG_CHECK(out.is_contiguous() && x.is_contiguous() && grid.is_contiguous(),
           "grid_sample: the CUDA kernel expects contiguous tensors");
  if (out.numel() == 0) return;
  SG_DISPATCH_FLOAT_CUDA(x.dtype(), "grid_sample", [&] {
    grid_sample_forward_kernel<<<blocks_for(s.N * s.Ho * s.Wo), 256, 0, current_stream()>>>(
        static_cast<scalar_t*>(out.data_ptr()), static_cast<const scalar_t*>(x.data_ptr()),
        static_cast<const scalar_t*>(grid.data_ptr()), s);
  });
  CUDA_CHECK_LAUNCH("grid_sample");
}

void grid_sample_backward_cuda(const Tensor& dx, const Tensor& dy, const Tensor& grid, const GridSampleShape& s) {
  NvtxRange range("grid_sample_backward_input");
  SG_CHECK(dx.is_contiguous() && dy.is_contiguous() && grid.is_contiguous(),
           "grid_sample_backward_input: the CUDA kernel expects contiguous tensors");
  Tensor acc = is_half(dx.dtype()) ? Tensor::empty(dx.shape(), DType::Float32, Device::CUDA) : dx;
  acc.fill_(0);
  if (dy.numel() > 0) {
    SG_DISPATCH_FLOAT_CUDA(dy.dtype(), "grid_sample_backward_input", [&] {
      grid_sample_backward_kernel<<<blocks_for(s.N * s.Ho * s.Wo), 256, 0, current_stream()>>>(
          static_cast<compute_t<scalar_t>*>(acc.data_ptr()), static_cast<const scalar_t*>(dy.data_ptr()),
          static_cast<const scalar_t*>(grid.data_ptr()), s);
    });
    CUDA_CHECK_LAUNCH("grid_sample_backward_input");
  }
  if (!acc.same(dx)) dx.copy_(acc);
}

}  // namespace sg
