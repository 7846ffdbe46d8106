// Index arithmetic shared by CPU and CUDA kernels that read strided (non-contiguous, broadcast)
// tensors: a linear index over the shape is mapped to an element offset in storage.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

#ifdef __CUDACC__
#define SG_HOST_DEVICE __host__ __device__
#else
#define SG_HOST_DEVICE
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

}  // namespace sg
