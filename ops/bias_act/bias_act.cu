// CUDA kernels of bias_act: elementwise; 16-bit types compute in float. The general kernel has
// each thread handle 4 elements spaced a block apart so loads stay coalesced and several are in
// flight; the plane kernel serves the common NCHW case without per-element index division.
#include "engine/cuda_check.h"
#include "engine/cuda_types.cuh"
#include "engine/nvtx.h"
#include "ops/bias_act/bias_act_math.h"

namespace sg {

namespace {

constexpr int kThreads = 128, kPerThread = 4;

template <class T>
__global__ void bias_act_kernel(T* __restrict__ out, const T* __restrict__ in, const T* __restrict__ b,
                                const T* __restrict__ xref, const T* __restrict__ yref, const T* __restrict__ dy,
                                BiasActParams p) {
  using C = compute_t<T>;
  int64_t base = int64_t(blockIdx.x) * kThreads * kPerThread + threadIdx.x;
#pragma unroll
  for (int k = 0; k < kPerThread; ++k) {
    int64_t i = base + int64_t(k) * kThreads;
    if (i >= p.n) return;
    C bias = b ? load_as_compute(b + (i / p.bias_stride) % p.bias_size) : C(0);
    C v = bias_act_element<C>(p, load_as_compute(in + i), bias, xref ? load_as_compute(xref + i) : C(0),
                              yref ? load_as_compute(yref + i) : C(0), dy ? load_as_compute(dy + i) : C(1));
    out[i] = from_compute<T>(v);
  }
}

// Bias along a dim with a long inner extent (NCHW channels): blockIdx.y picks a plane of
// `stride` contiguous elements that share one bias value, so no per-element division is needed.
template <class T>
__global__ void bias_act_planes_kernel(T* __restrict__ out, const T* __restrict__ in, const T* __restrict__ b,
                                       const T* __restrict__ xref, const T* __restrict__ yref,
                                       const T* __restrict__ dy, BiasActParams p, int64_t planes) {
  using C = compute_t<T>;
  for (int64_t plane = blockIdx.y; plane < planes; plane += gridDim.y) {
    C bias = load_as_compute(b + plane % p.bias_size);
    int64_t base = plane * p.bias_stride;
    for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < p.bias_stride; j += int64_t(gridDim.x) * blockDim.x) {
      int64_t i = base + j;
      C v = bias_act_element<C>(p, load_as_compute(in + i), bias, xref ? load_as_compute(xref + i) : C(0),
                                yref ? load_as_compute(yref + i) : C(0), dy ? load_as_compute(dy + i) : C(1));
      out[i] = from_compute<T>(v);
    }
  }
}

}  // namespace

void bias_act_cuda(const Tensor& out, const Tensor& in, const Tensor& b, const Tensor& xref, const Tensor& yref,
                   const Tensor& dy, const BiasActParams& p) {
  NvtxRange range("bias_act");
  if (p.n == 0) return;
  int64_t blocks = (p.n + kThreads * kPerThread - 1) / (kThreads * kPerThread);
  SG_CHECK(blocks < (int64_t(1) << 31), "bias_act: tensor too large (", p.n, " elements)");
  SG_DISPATCH_FLOAT_CUDA(in.dtype(), "bias_act", [&] {
    auto ptr = [](const Tensor& t) { return t.defined() ? static_cast<const scalar_t*>(t.data_ptr()) : nullptr; };
    if (b.defined() && p.bias_stride >= 256) {
      int64_t planes = p.n / p.bias_stride;
      dim3 grid(unsigned(std::min<int64_t>((p.bias_stride + 255) / 256, 64)), unsigned(std::min<int64_t>(planes, 65535)));
      bias_act_planes_kernel<scalar_t><<<grid, 256, 0, current_stream()>>>(static_cast<scalar_t*>(out.data_ptr()), ptr(in),
                                                                           ptr(b), ptr(xref), ptr(yref), ptr(dy), p, planes);
      return;
    }
    bias_act_kernel<scalar_t><<<unsigned(blocks), kThreads, 0, current_stream()>>>(
        static_cast<scalar_t*>(out.data_ptr()), ptr(in), ptr(b), ptr(xref), ptr(yref), ptr(dy), p);
  });
  CUDA_CHECK_LAUNCH("bias_act");
}

}  // namespace sg
