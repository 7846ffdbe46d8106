// CUDA elementwise kernels: one thread per output element in a grid-stride loop. Inputs with the
// output's shape and contiguous layout are indexed directly; others go through StridedLayout
// (broadcast dims have stride 0). 16-bit types load and store through float.
#include <algorithm>
#include "engine/cuda_check.h"
#include "engine/cuda_types.cuh"
#include "engine/nvtx.h"
#include "ops/elementwise/elementwise_math.h"

namespace sg {

namespace {

constexpr int kThreads = 256;

struct Operands {
  StridedLayout layout[3];
  bool direct[3];  // contiguous with the output's shape: index i is the element
};

template <class T, int kInputs, class F>
__global__ void elementwise_kernel(T* __restrict__ out, const T* __restrict__ in0, const T* __restrict__ in1,
                                   const T* __restrict__ in2, Operands ops, int64_t n, F f) {
  using C = compute_t<T>;
  const T* inputs[3] = {in0, in1, in2};
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    C v[kInputs];
#pragma unroll
    for (int k = 0; k < kInputs; ++k)
      v[k] = load_as_compute(inputs[k] + (ops.direct[k] ? i : ops.layout[k].offset_of(i)));
    out[i] = from_compute<T>(f(v));
  }
}

unsigned grid_for(int64_t n) {
  return unsigned(std::min<int64_t>((n + kThreads - 1) / kThreads, int64_t(65535) * 32));
}

template <int kInputs, class MakeF>
void launch(const char* name, const Tensor& out, const std::vector<Tensor>& inputs, MakeF make_f) {
  NvtxRange range(name);
  int64_t n = out.numel();
  if (n == 0) return;
  Operands ops{};
  for (int k = 0; k < kInputs; ++k) {
    ops.direct[k] = inputs[k].is_contiguous() && inputs[k].shape() == out.shape();
    if (!ops.direct[k]) {
      ops.layout[k] = make_layout(inputs[k], out.shape(), name);
      ops.layout[k].offset = 0;  // pointers passed below already point at the view's offset
    }
  }
  SG_DISPATCH_FLOAT_CUDA(out.dtype(), name, [&] {
    const scalar_t* p[3] = {nullptr, nullptr, nullptr};
    for (int k = 0; k < kInputs; ++k) p[k] = static_cast<const scalar_t*>(inputs[k].data_ptr());
    auto f = make_f.template operator()<compute_t<scalar_t>>();
    elementwise_kernel<scalar_t, kInputs><<<grid_for(n), kThreads, 0, current_stream()>>>(
        static_cast<scalar_t*>(out.data_ptr()), p[0], p[1], p[2], ops, n, f);
  });
  CUDA_CHECK_LAUNCH(name);
}

template <class C>
struct UnaryFn {
  UnaryOp op;
  C a, b;
  __device__ C operator()(const C* v) const { return apply_unary<C>(op, v[0], a, b); }
};
template <class C>
struct BinaryFn {
  BinaryOp op;
  __device__ C operator()(const C* v) const { return apply_binary<C>(op, v[0], v[1]); }
};
template <class C>
struct TernaryFn {
  TernaryOp op;
  __device__ C operator()(const C* v) const { return apply_ternary<C>(op, v[0], v[1], v[2]); }
};

}  // namespace

void unary_cuda(UnaryOp op, const Tensor& out, const Tensor& x, double a, double b) {
  launch<1>("elementwise_unary", out, {x},
            [&]<class C>() { return UnaryFn<C>{op, C(a), C(b)}; });
}

void binary_cuda(BinaryOp op, const Tensor& out, const Tensor& x, const Tensor& y) {
  launch<2>("elementwise_binary", out, {x, y}, [&]<class C>() { return BinaryFn<C>{op}; });
}

void ternary_cuda(TernaryOp op, const Tensor& out, const Tensor& x, const Tensor& y, const Tensor& z) {
  launch<3>("elementwise_ternary", out, {x, y, z}, [&]<class C>() { return TernaryFn<C>{op}; });
}

}  // namespace sg
