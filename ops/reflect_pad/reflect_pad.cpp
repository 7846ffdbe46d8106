#include "ops/reflect_pad/reflect_pad.h"

#include <vector>

#include "ops/shape/shape.h"

namespace sg {

namespace {

// Source index of every padded position along an axis of `size` samples.
Tensor reflect_index(int64_t size, int64_t before, int64_t after) {
  std::vector<double> index;
  for (int64_t i = -before; i < size + after; ++i) {
    int64_t j = i < 0 ? -i : i;
    index.push_back(double(j < size ? j : 2 * (size - 1) - j));
  }
  return Tensor::from_vector(index, {int64_t(index.size())}, DType::Int64);
}

}  // namespace

Tensor reflect_pad(const Tensor& x, Pad4 p) {
  SG_CHECK(x.dim() == 4, "reflect_pad: expected x [N, C, H, W], got ", shape_str(x.shape()));
  int64_t H = x.size(2), W = x.size(3);
  SG_CHECK(p.x0 >= 0 && p.x1 >= 0 && p.y0 >= 0 && p.y1 >= 0 && p.x0 < W && p.x1 < W && p.y0 < H && p.y1 < H,
           "reflect_pad: padding ", to_string(p), " must lie in [0, size - 1] of each axis of x ",
           shape_str(x.shape()));
  Tensor y = x;
  if (p.x0 > 0 || p.x1 > 0) y = index_select(y, 3, reflect_index(W, p.x0, p.x1));
  if (p.y0 > 0 || p.y1 > 0) y = index_select(y, 2, reflect_index(H, p.y0, p.y1));
  return y;
}

}  // namespace sg
