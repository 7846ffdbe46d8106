#include "ops/warp_upsampled/warp_upsampled.h"

#include <algorithm>

#include "autograd/autograd.h"
#include "ops/elementwise/elementwise.h"
#include "ops/shape/shape.h"
#include "ops/warp_upsampled/warp_upsampled_math.h"

namespace sg {

namespace {

Tensor upsample_axis(const Tensor& x, int dim) {
  int64_t n = x.size(dim);
  std::vector<double> prev(static_cast<size_t>(n)), next(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    prev[size_t(i)] = double(std::max<int64_t>(i - 1, 0));
    next[size_t(i)] = double(std::min<int64_t>(i + 1, n - 1));
  }
  Tensor center = mul(x, 0.75);
  Tensor even = add(center, mul(index_select(x, dim, Tensor::from_vector(prev, {n}, DType::Int64)), 0.25));
  Tensor odd = add(center, mul(index_select(x, dim, Tensor::from_vector(next, {n}, DType::Int64)), 0.25));
  Shape shape = x.shape();
  shape[size_t(dim)] *= 2;
  return reshape(stack({even, odd}, dim + 1), shape);
}

}  // namespace

Tensor upsample2x_bilinear(const Tensor& x) {
  SG_CHECK(x.dim() == 4, "upsample2x_bilinear: expected [N, C, H, W], got ", shape_str(x.shape()));
  return upsample_axis(upsample_axis(x, 3), 2);
}

Tensor warp_upsampled(const Tensor& x, const Tensor& theta, Pad4 pad, int64_t Ho, int64_t Wo, const Tensor& filter) {
  SG_CHECK(x.dim() == 4 && (x.dtype() == DType::Float32 || x.dtype() == DType::Float64),
           "warp_upsampled: expected x [N, C, H, W] float32 or float64, got ", x.describe());
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  SG_CHECK(theta.dim() == 3 && theta.size(0) == N && theta.size(1) == 2 && theta.size(2) == 3,
           "warp_upsampled: expected theta [", N, ", 2, 3], got ", shape_str(theta.shape()));
  SG_CHECK(pad.x0 >= 0 && pad.x1 >= 0 && pad.x0 < W && pad.x1 < W && pad.y0 >= 0 && pad.y1 >= 0 && pad.y0 < H && pad.y1 < H,
           "warp_upsampled: reflect padding [", pad.x0, ", ", pad.x1, ", ", pad.y0, ", ", pad.y1, "] must lie in [0, size - 1] of ",
           shape_str(x.shape()));
  SG_CHECK(Ho > 0 && Wo > 0, "warp_upsampled: output size must be positive, got ", Ho, "x", Wo);
  SG_CHECK(!filter.defined() || (filter.dim() == 1 && filter.size(0) >= 1 && filter.size(0) <= kMaxWarpFilterTaps),
           "warp_upsampled: expected a 1-D filter of 1 to ", kMaxWarpFilterTaps, " taps, got ",
           shape_str(filter.shape()));
  SG_CHECK(!(grad_mode_enabled() && requires_grad(x)),
           "warp_upsampled: has no gradient; compose reflect_pad, the upsampling and grid_sample for inputs that need one");
  Tensor cx = raw::contiguous(x);
  Tensor ct = raw::contiguous(raw::to(theta, x.dtype(), x.device()));
  Tensor cf = filter.defined() ? raw::contiguous(raw::to(filter, x.dtype(), x.device())) : filter;
  Tensor out = Tensor::empty({N, C, Ho, Wo}, x.dtype(), x.device());
  WarpUpsampledShape s{N, C, H, W, Ho, Wo, pad};
  if (N * C * Ho * Wo == 0) return out;
  if (x.is_cuda())
    warp_upsampled_cuda(out, cx, ct, cf, s);
  else
    warp_upsampled_cpu(out, cx, ct, cf, s);
  return out;
}

}  // namespace sg
