#include "ops/color_transform/color_transform.h"

#include "autograd/autograd.h"
#include "ops/shape/shape.h"

namespace sg {

Tensor color_transform(const Tensor& x, const Tensor& matrix, const Tensor& offset) {
  SG_CHECK(x.defined() && is_floating(x.dtype()) && x.dim() >= 2,
           "color_transform: expected a floating x [N, C, ...], got ", x.defined() ? x.describe() : "undefined");
  const int64_t N = x.size(0), C = x.size(1);
  SG_CHECK(C >= 1 && C <= kColorTransformMaxChannels, "color_transform: expected 1 to ",
           kColorTransformMaxChannels, " channels, got x ", shape_str(x.shape()));
  SG_CHECK(matrix.defined() && matrix.shape() == Shape({N, C, C}), "color_transform: expected matrix [", N, ", ",
           C, ", ", C, "] for x ", shape_str(x.shape()), ", got ",
           matrix.defined() ? shape_str(matrix.shape()) : "undefined");
  SG_CHECK(!offset.defined() || offset.shape() == Shape({N, C}), "color_transform: expected offset [", N, ", ", C,
           "] for x ", shape_str(x.shape()), ", got ", offset.defined() ? shape_str(offset.shape()) : "");
  for (const Tensor* t : {&matrix, &offset}) {
    if (!t->defined()) continue;
    SG_CHECK(t->dtype() == x.dtype() && t->device() == x.device(), "color_transform: ", t->describe(),
             " does not match x ", x.describe());
    SG_CHECK(!requires_grad(*t), "color_transform: the matrix and offset get no gradient, got one that requires it");
  }
  const int64_t P = N > 0 ? x.numel() / (N * C) : 0;
  Tensor cx = raw::reshape(raw::contiguous(x), {N, C, P});
  Tensor cm = raw::contiguous(matrix), co = offset.defined() ? raw::contiguous(offset) : offset;
  Tensor out;
  if (x.device() == Device::CPU && is_half(x.dtype())) {
    auto widen = [](const Tensor& t) { return t.defined() ? raw::to(t, DType::Float32, Device::CPU) : t; };
    Tensor wide = Tensor::empty(cx.shape(), DType::Float32, Device::CPU);
    color_transform_cpu(wide, widen(cx), widen(cm), widen(co));
    out = raw::to(wide, x.dtype(), Device::CPU);
  } else {
    out = Tensor::empty(cx.shape(), x.dtype(), x.device());
    if (out.numel() > 0) (x.is_cuda() ? color_transform_cuda : color_transform_cpu)(out, cx, cm, co);
  }
  out = raw::reshape(out, x.shape());
  record("color_transform", {x}, {out}, [matrix](const std::vector<Tensor>& g, const std::vector<bool>&) {
    return std::vector<Tensor>{color_transform(g[0], raw::contiguous(raw::transpose(matrix, 1, 2)))};
  });
  return out;
}

}  // namespace sg
