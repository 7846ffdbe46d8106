// Differentiable views and data movement: reshape, permute, transpose, narrow, expand,
// (un)squeeze, flatten, contiguous, cast, to_device, cat, stack, repeat, index_select, flip, pad.
// Views share storage with their input; their backward maps the gradient back to the input shape.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace sg {

Tensor reshape(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor select(const Tensor& x, int64_t dim, int64_t index);  // narrow + squeeze
Tensor expand(const Tensor& x, const Shape& shape);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor contiguous(const Tensor& x);
Tensor cast(const Tensor& x, DType dtype);
Tensor to_device(const Tensor& x, Device device);
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);
// Tiles x: output size along dim d is x.size(d) * repeats[d] (leading new dims allowed).
Tensor repeat(const Tensor& x, const Shape& repeats);
// Rows of x along dim picked by an int64 index vector (on x's device or the CPU).
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// The adjoint of index_select: a zero tensor of `shape` with src's slices added at index.
Tensor index_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src);
Tensor flip(const Tensor& x, const std::vector<int64_t>& dims);
// Zero padding [before, after] per dim from the last dim backwards (as torch.nn.functional.pad);
// negative amounts crop.
Tensor pad(const Tensor& x, const std::vector<int64_t>& amounts);

// Raw kernels on contiguous tensors viewed as [outer, D, inner] (D along `dim`) and an int64
// index of length K on the same device: select gives out[o, k, i] = x[o, index[k], i]; add does
// out[o, index[k], i] += src[o, k, i]. Indices are bounds-checked before the launch.
struct IndexParams {
  int64_t outer, inner, source_size, index_size;
};
void index_select_cpu(const Tensor& out, const Tensor& x, const Tensor& index, IndexParams p);
void index_select_cuda(const Tensor& out, const Tensor& x, const Tensor& index, IndexParams p);
void index_add_cpu(const Tensor& out, const Tensor& src, const Tensor& index, IndexParams p);
void index_add_cuda(const Tensor& out, const Tensor& src, const Tensor& index, IndexParams p);

}  // namespace sg
