// CUDA kernel of bias_act: elementwise; 16-bit types compute in float. When every operand is
// 16-byte aligned and a run of kPackWidth elements never straddles two channels (no bias, or a
// channel stride that is a multiple of it), each thread moves 16 bytes per operand per step and
// looks its bias up once for them; otherwise one element per step. The channel comes from
// BiasIndex (32-bit multiply-high division), as on the CPU.
#include <algorithm>

#include "engine/cuda_check.h"
#include "engine/cuda_types.cuh"
#include "engine/nvtx.h"
#include "ops/bias_act/bias_act_math.h"

namespace sg {

namespace {

constexpr int kThreads = 256;

template <class T>
struct Operands {
  const T *in, *b, *xref, *yref, *dy;
};

template <class T, int N>
__device__ __forceinline__ Pack<T, N> load_pack(const T* p, int64_t pack) {
  return reinterpret_cast<const Pack<T, N>*>(p)[pack];
}

template <class T, int N>
__global__ void bias_act_kernel(T* __restrict__ out, Operands<T> ops, BiasActParams p, BiasIndex channel) {
  using C = compute_t<T>;
  const int64_t packs = p.n / N, first = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  for (int64_t q = first; q < packs; q += int64_t(gridDim.x) * blockDim.x) {
    const C bias = ops.b ? load_as_compute(ops.b + channel(q * N)) : C(0);
    const Pack<T, N> in = load_pack<T, N>(ops.in, q);
    Pack<T, N> xref{}, yref{}, dy{}, r;
    if (ops.xref) xref = load_pack<T, N>(ops.xref, q);
    if (ops.yref) yref = load_pack<T, N>(ops.yref, q);
    if (ops.dy) dy = load_pack<T, N>(ops.dy, q);
#pragma unroll
    for (int j = 0; j < N; ++j) {
      const C v = bias_act_element<C>(p, load_as_compute(&in.v[j]), bias, ops.xref ? load_as_compute(&xref.v[j]) : C(0),
                                      ops.yref ? load_as_compute(&yref.v[j]) : C(0),
                                      ops.dy ? load_as_compute(&dy.v[j]) : C(1));
      r.v[j] = from_compute<T>(v);
    }
    reinterpret_cast<Pack<T, N>*>(out)[q] = r;
  }
  // The n % N elements after the last pack, one per thread of the first block.
  const int64_t i = packs * N + first;
  if (i < p.n) {
    const C bias = ops.b ? load_as_compute(ops.b + channel(i)) : C(0);
    const C v = bias_act_element<C>(p, load_as_compute(ops.in + i), bias, ops.xref ? load_as_compute(ops.xref + i) : C(0),
                                    ops.yref ? load_as_compute(ops.yref + i) : C(0),
                                    ops.dy ? load_as_compute(ops.dy + i) : C(1));
    out[i] = from_compute<T>(v);
  }
}

unsigned grid_for(int64_t n) {
  return unsigned(std::clamp<int64_t>((n + kThreads - 1) / kThreads, 1, int64_t(65535) * 32));
}

}  // namespace

void bias_act_cuda(const Tensor& out, const Tensor& in, const Tensor& b, const Tensor& xref, const Tensor& yref,
                   const Tensor& dy, const BiasActParams& p) {
  NvtxRange range("bias_act");
  if (p.n == 0) return;
  const BiasIndex channel(p);
  SG_DISPATCH_FLOAT_CUDA(in.dtype(), "bias_act", [&] {
    using T = scalar_t;
    auto ptr = [](const Tensor& t) { return t.defined() ? static_cast<const T*>(t.data_ptr()) : nullptr; };
    const Operands<T> ops{ptr(in), ptr(b), ptr(xref), ptr(yref), ptr(dy)};
    T* o = static_cast<T*>(out.data_ptr());
    constexpr int N = kPackWidth<T>;
    bool packed = is_aligned(o, 16) && (!ops.b || p.bias_stride % N == 0);
    for (const T* q : {ops.in, ops.xref, ops.yref, ops.dy}) packed = packed && (!q || is_aligned(q, 16));
    if (packed)
      bias_act_kernel<T, N><<<grid_for(p.n / N), kThreads, 0, current_stream()>>>(o, ops, p, channel);
    else
      bias_act_kernel<T, 1><<<grid_for(p.n), kThreads, 0, current_stream()>>>(o, ops, p, channel);
  });
  CUDA_CHECK_LAUNCH("bias_act");
}

}  // namespace sg
