// CUDA elementwise kernels, three ways by operand layout:
//   packed: every input contiguous with the output's shape and 16-byte aligned; each thread
//           moves 16 bytes per operand per step (4 floats, 8 halves);
//   mapped: anything else below 2^31 elements: coalesced dims, one 32-bit index decomposition
//           (multiply-high division) per element shared by all inputs;
//   strided: the general 64-bit layout (huge tensors, negative strides).
// 16-bit types load and store through float.
#include <algorithm>
#include <array>

#include "engine/cuda_check.h"
#include "engine/cuda_types.cuh"
#include "engine/nvtx.h"
#include "ops/elementwise/elementwise_math.h"

namespace sg {

namespace {

constexpr int kThreads = 256;

template <class T>
struct Inputs {
  const T* ptr[3];
};

template <class T, int K, int N, class F>
__global__ void elementwise_packed_kernel(T* __restrict__ out, Inputs<T> in, int64_t n, F f) {
  using C = compute_t<T>;
  const int64_t packs = n / N, first = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  for (int64_t p = first; p < packs; p += int64_t(gridDim.x) * blockDim.x) {
    Pack<T, N> a[K], r;
#pragma unroll
    for (int k = 0; k < K; ++k) a[k] = reinterpret_cast<const Pack<T, N>*>(in.ptr[k])[p];
#pragma unroll
    for (int j = 0; j < N; ++j) {
      C v[K];
#pragma unroll
      for (int k = 0; k < K; ++k) v[k] = load_as_compute(&a[k].v[j]);
      r.v[j] = from_compute<T>(f(v));
    }
    reinterpret_cast<Pack<T, N>*>(out)[p] = r;
  }
  // The n % N elements after the last pack, one per thread of the first block.
  const int64_t i = packs * N + first;
  if (i < n) {
    C v[K];
#pragma unroll
    for (int k = 0; k < K; ++k) v[k] = load_as_compute(in.ptr[k] + i);
    out[i] = from_compute<T>(f(v));
  }
}

template <class T, int K, class F>
__global__ void elementwise_mapped_kernel(T* __restrict__ out, Inputs<T> in, IndexMap32<K> map, uint32_t n, F f) {
  using C = compute_t<T>;
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    uint32_t offsets[K];
    map.offsets(i, offsets);
    C v[K];
#pragma unroll
    for (int k = 0; k < K; ++k) v[k] = load_as_compute(in.ptr[k] + offsets[k]);
    out[i] = from_compute<T>(f(v));
  }
}

template <class T, int K, class F>
__global__ void elementwise_strided_kernel(T* __restrict__ out, Inputs<T> in, std::array<StridedLayout, K> layouts,
                                           int64_t n, F f) {
  using C = compute_t<T>;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    C v[K];
#pragma unroll
    for (int k = 0; k < K; ++k) v[k] = load_as_compute(in.ptr[k] + layouts[k].offset_of(i));
    out[i] = from_compute<T>(f(v));
  }
}

unsigned grid_for(int64_t n) {
  return unsigned(std::clamp<int64_t>((n + kThreads - 1) / kThreads, 1, int64_t(65535) * 32));
}

template <int K, class MakeF>
void launch(const char* name, const Tensor& out, const std::array<Tensor, K>& inputs, MakeF make_f) {
  NvtxRange range(name);
  const int64_t n = out.numel();
  if (n == 0) return;
  // Packed when every operand is contiguous with the output's shape and 16-byte aligned; the
  // index maps are built only for the other kernels.
  bool packed = is_aligned(out.data_ptr(), 16);
  for (int k = 0; k < K; ++k)
    packed = packed && inputs[k].is_contiguous() && inputs[k].shape() == out.shape() &&
             is_aligned(inputs[k].data_ptr(), 16);
  std::array<StridedLayout, K> layouts;
  bool map32 = false;
  if (!packed) {
    for (int k = 0; k < K; ++k) {
      layouts[size_t(k)] = make_layout(inputs[k], out.shape(), name);
      layouts[size_t(k)].offset = 0;  // the pointers passed below already point at each view's offset
    }
    coalesce_layouts(layouts.data(), K);
    map32 = fits_index_map32(layouts.data(), K);
  }
  SG_DISPATCH_FLOAT_CUDA(out.dtype(), name, [&] {
    using T = scalar_t;
    T* o = static_cast<T*>(out.data_ptr());
    Inputs<T> in{};
    for (int k = 0; k < K; ++k) in.ptr[k] = static_cast<const T*>(inputs[k].data_ptr());
    auto f = make_f.template operator()<compute_t<T>>();
    cudaStream_t stream = current_stream();
    if (packed) {
      constexpr int N = kPackWidth<T>;
      elementwise_packed_kernel<T, K, N><<<grid_for(n / N), kThreads, 0, stream>>>(o, in, n, f);
    } else if (map32) {
      elementwise_mapped_kernel<T, K><<<grid_for(n), kThreads, 0, stream>>>(
          o, in, make_index_map32<K>(layouts.data()), uint32_t(n), f);
    } else {
      elementwise_strided_kernel<T, K><<<grid_for(n), kThreads, 0, stream>>>(o, in, layouts, n, f);
    }
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
  launch<1>("elementwise_unary", out, {x}, [&]<class C>() { return UnaryFn<C>{op, C(a), C(b)}; });
}

void binary_cuda(BinaryOp op, const Tensor& out, const Tensor& x, const Tensor& y) {
  launch<2>("elementwise_binary", out, {x, y}, [&]<class C>() { return BinaryFn<C>{op}; });
}

void ternary_cuda(TernaryOp op, const Tensor& out, const Tensor& x, const Tensor& y, const Tensor& z) {
  launch<3>("elementwise_ternary", out, {x, y, z}, [&]<class C>() { return TernaryFn<C>{op}; });
}

}  // namespace sg
