#include "ops/adam/adam.h"

#include <cmath>

namespace sg {

AdamScalars adam_scalars(const AdamParams& p) {
  SG_CHECK(p.step >= 1, "adam: step must be >= 1, got ", p.step);
  double bias_correction1 = 1 - std::pow(p.beta1, double(p.step));
  double bias_correction2 = 1 - std::pow(p.beta2, double(p.step));
  return {p.lr, p.beta1, p.beta2, p.eps, p.lr / bias_correction1, std::sqrt(bias_correction2)};
}

void adam_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const AdamParams& p,
               const Tensor& nonfinite_count) {
  for (const Tensor* t : {&grad, &m, &v}) {
    SG_CHECK(t->shape() == param.shape() && t->dtype() == param.dtype() && t->device() == param.device(),
             "adam: expected ", param.describe(), " for gradient and moments, got ", t->describe());
    SG_CHECK(t->is_contiguous(), "adam: gradient and moments must be contiguous");
  }
  SG_CHECK(param.is_contiguous(), "adam: parameter must be contiguous");
  SG_CHECK(!nonfinite_count.defined() || (nonfinite_count.dtype() == DType::Int64 && nonfinite_count.numel() == 1 &&
                                           nonfinite_count.device() == param.device()),
           "adam: nonfinite_count must be an int64 [1] tensor on ", device_name(param.device()));
  AdamScalars s = adam_scalars(p);
  if (param.is_cuda())
    adam_step_cuda(param, grad, m, v, s, nonfinite_count);
  else
    adam_step_cpu(param, grad, m, v, s, nonfinite_count);
}

}  // namespace sg
