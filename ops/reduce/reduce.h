// Reductions over chosen dims (sum, mean, amax, amin, L2 norm), with keepdim, and sum_to, the
// reduction that undoes broadcasting in backward rules. An empty dim list reduces every dim; a 0-d
// tensor reduces to itself (dims {} or {0}).
#pragma once
#include <vector>

#include "engine/strided.h"
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

// Raw kernels, reading x in place (no permuted copy): out (contiguous, `rows` values) gets
//   out[k] = reduce over r < cols of x[kept(k) + reduced(r)]
// where kept and reduced map an index over the kept dims and over the reduced dims to element
// offsets from x.data_ptr() (coalesced 32-bit maps; reductions take fewer than 2^31 elements).
enum class ReduceOp { Sum, Max, Min };
struct ReduceLayout {
  IndexMap32<1> kept, reduced;
  int64_t rows = 1, cols = 1;
  bool kept_unit_stride = false;  // consecutive outputs read neighbouring elements (x's unit-stride dim is kept)
};
void reduce_cpu(ReduceOp op, const Tensor& out, const Tensor& x, const ReduceLayout& layout);
void reduce_cuda(ReduceOp op, const Tensor& out, const Tensor& x, const ReduceLayout& layout);

}  // namespace sg
