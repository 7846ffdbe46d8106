// Device kernels behind Tensor::copy_ and Tensor::fill_: strided element copy with dtype
// conversion (dst and src on the same device, same shape) and fill.
#pragma once
#include "engine/tensor.h"

namespace sg {

void copy_strided_cpu(const Tensor& dst, const Tensor& src);
void copy_strided_cuda(const Tensor& dst, const Tensor& src);
void fill_cpu(const Tensor& dst, double value);
void fill_cuda(const Tensor& dst, double value);

}  // namespace sg
