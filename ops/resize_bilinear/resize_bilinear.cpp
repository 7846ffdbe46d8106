#include "ops/resize_bilinear/resize_bilinear.h"

#include "autograd/autograd.h"

namespace sg {

Tensor resize_bilinear(const Tensor& x, int64_t Ho, int64_t Wo) {
  SG_CHECK(x.dim() == 4 && (x.dtype() == DType::Float32 || x.dtype() == DType::Float64),
           "resize_bilinear: expected x [N, C, H, W] float32 or float64, got ", x.describe());
  SG_CHECK(Ho > 0 && Wo > 0 && x.size(2) > 0 && x.size(3) > 0, "resize_bilinear: cannot resize ", shape_str(x.shape()),
           " to ", Ho, "x", Wo);
  SG_CHECK(!(grad_mode_enabled() && requires_grad(x)), "resize_bilinear: has no gradient (evaluation only)");
  ResizeShape s{x.size(0), x.size(1), x.size(2), x.size(3), Ho, Wo};
  Tensor cx = raw::contiguous(x);
  Tensor out = Tensor::empty({s.N, s.C, Ho, Wo}, x.dtype(), x.device());
  if (out.numel() == 0) return out;
  if (x.is_cuda())
    resize_bilinear_cuda(out, cx, s);
  else
    resize_bilinear_cpu(out, cx, s);
  return out;
}

}  // namespace sg
