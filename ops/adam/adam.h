// Adam, as torch.optim.Adam (bias-corrected, eps added after the square root), updating
// parameters in place. The gradient is sanitised first exactly like the official trainer's
// nan_to_num (NaN -> 0, +inf -> 1e5, -inf -> -1e5), and the number of non-finite gradient
// elements is counted so the trainer can report (or stop on) them. No autograd involvement.
#pragma once
#include "engine/tensor.h"

namespace sg {

struct AdamParams {
  double lr = 0.002;
  double beta1 = 0, beta2 = 0.99;
  double eps = 1e-8;
  int64_t step = 1;  // 1-based step number for bias correction
};

// param, m, v, grad: same shape, float32 or float64, contiguous, same device. The count of
// non-finite gradient elements is added to nonfinite_count (int64 [1] on the same device), which
// the caller reads once in a while: reading it every step would synchronise the GPU.
void adam_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const AdamParams& p,
               const Tensor& nonfinite_count);

struct AdamScalars {
  double lr, beta1, beta2, eps, step_size, bias_correction2_sqrt;
};
AdamScalars adam_scalars(const AdamParams& p);
void adam_step_cpu(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const AdamScalars& s,
                   const Tensor& nonfinite_count);
void adam_step_cuda(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const AdamScalars& s,
                    const Tensor& nonfinite_count);

}  // namespace sg
