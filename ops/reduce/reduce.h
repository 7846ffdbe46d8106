// Reductions over chosen dims (sum, mean, amax, amin, L2 norm), with keepdim, and sum_to, the
// reduction that undoes broadcasting in backward rules. An empty dim list reduces every dim; a 0-d
// tensor reduces to itself (dims {} or {0}).
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace sg {

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Maximum/minimum values; the gradient is shared evenly among tied maxima.
Tensor amax(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// sqrt(sum(x^2)) over dims; the gradient where the norm is 0 is 0 (as torch).
Tensor norm(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);

// Sums g over the dims that broadcasting expanded, so the result has `shape`.
Tensor sum_to(const Tensor& g, const Shape& shape);

// Raw kernels: x is a contiguous [rows, cols] matrix; out[rows] gets each row's reduction.
enum class ReduceOp { Sum, Max, Min };
void reduce_rows_cpu(ReduceOp op, const Tensor& out, const Tensor& x, int64_t rows, int64_t cols);
void reduce_rows_cuda(ReduceOp op, const Tensor& out, const Tensor& x, int64_t rows, int64_t cols);

}  // namespace sg
