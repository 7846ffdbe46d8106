// 2-D max and average pooling (torch.nn.functional.max_pool2d / avg_pool2d semantics, square
// windows), for the evaluation networks (Inception-v3). Forward only: requesting a gradient
// through them is an error, since nothing trained in this engine pools.
#pragma once
#include "engine/tensor.h"

namespace sg {

// x [N, C, H, W] float32/float64; out size (H + 2 padding - kernel) / stride + 1 per axis.
// Max pooling ignores the padding; average pooling divides by the whole window when
// count_include_pad, else by the pixels inside the image (the FID Inception's blocks).
Tensor max_pool2d(const Tensor& x, int kernel, int stride, int padding = 0);
Tensor avg_pool2d(const Tensor& x, int kernel, int stride, int padding = 0, bool count_include_pad = true);

struct Pool2dShape {
  int64_t N, C, H, W, Ho, Wo;
  int kernel, stride, padding;
  bool is_max, count_include_pad;
};
void pool2d_cpu(const Tensor& out, const Tensor& x, const Pool2dShape& s);
void pool2d_cuda(const Tensor& out, const Tensor& x, const Pool2dShape& s);

}  // namespace sg
