// color_transform: one affine map of the channels per image, the augment pipe's color matrix:
//   out[n, i, p] = sum_j matrix[n, i, j] * x[n, j, p] + offset[n, i]
// in one pass over the pixels (the composed form is a batched matmul with an inner size of 3,
// then a broadcast add: two passes and a poor fit for cuBLAS).
// Differentiable in x to any order: the gradient is the same map with the matrix transposed and
// no offset. matrix and offset are constants of the augmentation: an error if either requires a
// gradient.
#pragma once
#include "engine/tensor.h"

namespace sg {

constexpr int64_t kColorTransformMaxChannels = 4;

// x [N, C, ...] with C <= 4; matrix [N, C, C]; offset [N, C] or undefined (zero).
Tensor color_transform(const Tensor& x, const Tensor& matrix, const Tensor& offset = Tensor());

// Raw kernels on contiguous tensors of one dtype: x, out [N, C, P]; offset may be undefined.
void color_transform_cpu(const Tensor& out, const Tensor& x, const Tensor& matrix, const Tensor& offset);
void color_transform_cuda(const Tensor& out, const Tensor& x, const Tensor& matrix, const Tensor& offset);

}  // namespace sg
