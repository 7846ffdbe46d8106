// Index arithmetic shared by CPU and CUDA kernels that read strided (non-contiguous, broadcast)
// tensors: a linear index over the shape is mapped to an element offset in storage.
//
// Two forms: StridedLayout, 64-bit and general, and IndexMap32, which serves the common case
// (fewer than 2^31 elements and offsets) with one 32-bit decomposition shared by all operands and
// division by multiply-high (IndexDivider). GPUs have no integer divide instruction: a 64-bit `/`
// and `%` per dim per operand costs hundreds of instructions per element, enough to make a
// memory-bound op compute-bound. Both sides use the same code, so CPU tests check the arithmetic.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

#ifdef __CUDACC__
#define SG_HOST_DEVICE __host__ __device__
#else
#define SG_HOST_DEVICE
#endif

// Unrolls a loop with constant bounds in device code (so that arrays indexed by its counter stay
// in registers); the host compiler decides for itself.
#ifdef __CUDA_ARCH__
#define SG_UNROLL _Pragma("unroll")
#else
#define SG_UNROLL
#endif

namespace sg {

constexpr int kMaxDims = 8;

struct StridedLayout {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
  int64_t offset = 0;

  SG_HOST_DEVICE int64_t offset_of(int64_t linear) const {
    int64_t result = offset;
    for (int d = ndim - 1; d >= 0; --d) {
      int64_t i = linear % sizes[d];
      linear /= sizes[d];
      result += i * strides[d];
    }
    return result;
  }
};

// Layout of t read with the given shape (t must broadcast to it: size-1 dims get stride 0).
StridedLayout make_layout(const Tensor& t, const Shape& shape, const char* op_name);
// Layout of t itself.
inline StridedLayout make_layout(const Tensor& t, const char* op_name) {
  return make_layout(t, t.shape(), op_name);
}

// Rewrites `count` layouts of one shape with the fewest dims that give the same offsets: size-1
// dims are dropped and neighbours merged where every layout steps through them as one run (an
// NCHW tensor times a [1, C, 1, 1] bias becomes [N, C, H*W]; a contiguous tensor becomes 1-D).
void coalesce_layouts(StridedLayout* layouts, int count);

// n / divisor for n and divisor below 2^31, as (mulhi(n, magic) + n) >> shift (Granlund and
// Montgomery, "Division by invariant integers using multiplication", 1994).
struct IndexDivider {
  uint32_t divisor = 1, magic = 1;
  uint32_t shift = 0;

  IndexDivider() = default;
  explicit IndexDivider(uint32_t d) : divisor(d) {
    while ((uint64_t(1) << shift) < d) ++shift;
    if (d > 0) magic = uint32_t((uint64_t(1) << 32) * ((uint64_t(1) << shift) - d) / d + 1);
  }
  SG_HOST_DEVICE uint32_t div(uint32_t n) const {
#ifdef __CUDA_ARCH__
    uint32_t hi = __umulhi(n, magic);
#else
    uint32_t hi = uint32_t((uint64_t(n) * magic) >> 32);
#endif
    return (hi + n) >> shift;
  }
};

// Offsets of K operands at one linear index over a shape, dims stored innermost first. The
// outermost dim needs no division (the index is already below its size).
template <int K>
struct IndexMap32 {
  int ndim = 0;
  IndexDivider sizes[kMaxDims];
  uint32_t strides[kMaxDims][K] = {};

  SG_HOST_DEVICE void offsets(uint32_t linear, uint32_t (&out)[K]) const {
    for (int k = 0; k < K; ++k) out[k] = 0;
    SG_UNROLL
    for (int d = 0; d < kMaxDims; ++d) {
      if (d == ndim) break;
      uint32_t i = linear;
      if (d + 1 < ndim) {
        uint32_t q = sizes[d].div(linear);
        i = linear - q * sizes[d].divisor;
        linear = q;
      }
      for (int k = 0; k < K; ++k) out[k] += i * strides[d][k];
    }
  }
};

// The offset of one operand's map at a linear index.
SG_HOST_DEVICE inline uint32_t map_offset(const IndexMap32<1>& map, uint32_t linear) {
  uint32_t offset[1];
  map.offsets(linear, offset);
  return offset[0];
}

// True when every offset and the element count fit in 31 bits (and no stride is negative).
bool fits_index_map32(const StridedLayout* layouts, int count);

// The 32-bit map of `K` coalesced layouts that pass fits_index_map32. Layout offsets are not
// included: callers advance their base pointers by them.
template <int K>
IndexMap32<K> make_index_map32(const StridedLayout* layouts) {
  IndexMap32<K> map;
  const int ndim = layouts[0].ndim;
  map.ndim = ndim;
  for (int d = 0; d < ndim; ++d) {
    const int src = ndim - 1 - d;
    map.sizes[d] = IndexDivider(uint32_t(layouts[0].sizes[src]));
    for (int k = 0; k < K; ++k) map.strides[d][k] = uint32_t(layouts[k].strides[src]);
  }
  return map;
}

// CPU loop over the n elements of K layouts of one shape: fn(i, offsets) with offsets[k] the
// element of layout k at linear index i (its own offset excluded). Coalesces the layouts first.
template <int K, class Fn>
void for_each_offset(StridedLayout (&layouts)[K], int64_t n, Fn fn) {
  coalesce_layouts(layouts, K);
  int64_t offsets[K];
  if (fits_index_map32(layouts, K)) {
    const IndexMap32<K> map = make_index_map32<K>(layouts);
    uint32_t narrow[K];
    for (uint32_t i = 0; i < uint32_t(n); ++i) {
      map.offsets(i, narrow);
      for (int k = 0; k < K; ++k) offsets[k] = narrow[k];
      fn(int64_t(i), offsets);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < K; ++k) offsets[k] = layouts[k].offset_of(i) - layouts[k].offset;
    fn(i, offsets);
  }
}

}  // namespace sg
