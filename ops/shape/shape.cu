// CUDA kernels of index_select (one thread per output element) and index_add (atomicAdd, so
// repeated indices accumulate; the summation order of duplicates is not deterministic).
#include <algorithm>
#include "engine/cuda_check.h"
#include "engine/cuda_types.cuh"
#include "engine/nvtx.h"
#include "ops/shape/shape.h"

namespace sg {

namespace {

constexpr int kThreads = 256;

unsigned grid_for(int64_t n) { return unsigned(std::min<int64_t>((n + kThreads - 1) / kThreads, 65535 * 32)); }

template <class T>
__global__ void index_select_kernel(T* __restrict__ out, const T* __restrict__ x, const int64_t* __restrict__ index,
                                    IndexParams p) {
  int64_t n = p.outer * p.index_size * p.inner;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    int64_t i = e % p.inner, k = (e / p.inner) % p.index_size, a = e / (p.inner * p.index_size);
    out[e] = x[(a * p.source_size + index[k]) * p.inner + i];
  }
}

template <class T>
__global__ void index_add_kernel(T* __restrict__ out, const T* __restrict__ src, const int64_t* __restrict__ index,
                                 IndexParams p) {
  int64_t n = p.outer * p.index_size * p.inner;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    int64_t i = e % p.inner, k = (e / p.inner) % p.index_size, a = e / (p.inner * p.index_size);
    atomicAdd(out + (a * p.source_size + index[k]) * p.inner + i, src[e]);
  }
}

}  // namespace

void index_select_cuda(const Tensor& out, const Tensor& x, const Tensor& index, IndexParams p) {
  NvtxRange range("index_select");
  int64_t n = out.numel();
  if (n == 0) return;
  SG_DISPATCH_FLOAT_CUDA(x.dtype(), "index_select", [&] {
    index_select_kernel<<<grid_for(n), kThreads, 0, current_stream()>>>(
        static_cast<scalar_t*>(out.data_ptr()), static_cast<const scalar_t*>(x.data_ptr()),
        index.data<int64_t>(), p);
  });
  CUDA_CHECK_LAUNCH("index_select");
}

void index_add_cuda(const Tensor& out, const Tensor& src, const Tensor& index, IndexParams p) {
  NvtxRange range("index_add");
  int64_t n = src.numel();
  if (n == 0) return;
  SG_DISPATCH_FLOAT_CUDA(src.dtype(), "index_add", [&] {
    index_add_kernel<<<grid_for(n), kThreads, 0, current_stream()>>>(
        static_cast<scalar_t*>(out.data_ptr()), static_cast<const scalar_t*>(src.data_ptr()),
        index.data<int64_t>(), p);
  });
  CUDA_CHECK_LAUNCH("index_add");
}

}  // namespace sg
