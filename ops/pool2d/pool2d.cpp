#include "ops/pool2d/pool2d.h"

#include "autograd/autograd.h"

namespace sg {

namespace {

Tensor pool2d(const Tensor& x, int kernel, int stride, int padding, bool is_max, bool count_include_pad) {
  const char* name = is_max ? "max_pool2d" : "avg_pool2d";
  SG_CHECK(x.dim() == 4 && (x.dtype() == DType::Float32 || x.dtype() == DType::Float64), name,
           ": expected x [N, C, H, W] float32 or float64, got ", x.describe());
  SG_CHECK(kernel > 0 && stride > 0 && padding >= 0 && 2 * padding <= kernel, name, ": bad kernel ", kernel, ", stride ",
           stride, ", padding ", padding, " (padding at most half the kernel)");
  const int64_t H = x.size(2), W = x.size(3);
  SG_CHECK(H + 2 * padding >= kernel && W + 2 * padding >= kernel, name, ": kernel ", kernel, " is larger than the padded ",
           shape_str(x.shape()));
  SG_CHECK(!(grad_mode_enabled() && requires_grad(x)), name, ": has no gradient (evaluation only)");
  Pool2dShape s{x.size(0), x.size(1), H, W, (H + 2 * padding - kernel) / stride + 1, (W + 2 * padding - kernel) / stride + 1,
                kernel, stride, padding, is_max, count_include_pad};
  Tensor cx = raw::contiguous(x);
  Tensor out = Tensor::empty({s.N, s.C, s.Ho, s.Wo}, x.dtype(), x.device());
  if (out.numel() == 0) return out;
  if (x.is_cuda())
    pool2d_cuda(out, cx, s);
  else
    pool2d_cpu(out, cx, s);
  return out;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, int kernel, int stride, int padding) {
  return pool2d(x, kernel, stride, padding, true, true);
}

Tensor avg_pool2d(const Tensor& x, int kernel, int stride, int padding, bool count_include_pad) {
  return pool2d(x, kernel, stride, padding, false, count_include_pad);
}

}  // namespace sg
