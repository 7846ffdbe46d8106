// Bilinear resizing to any size, as torch.nn.functional.interpolate(mode='bilinear',
// align_corners=False) without antialiasing: output pixel centres map to source coordinates
// (o + 0.5) * in / out - 0.5, clamped at 0, and blend their two neighbours per axis. The FID
// Inception's input stage. Forward only (evaluation).
#pragma once
#include "engine/tensor.h"

namespace sg {

// x [N, C, H, W] float32/float64 -> [N, C, Ho, Wo].
Tensor resize_bilinear(const Tensor& x, int64_t Ho, int64_t Wo);

struct ResizeShape {
  int64_t N, C, H, W, Ho, Wo;
};
void resize_bilinear_cpu(const Tensor& out, const Tensor& x, const ResizeShape& s);
void resize_bilinear_cuda(const Tensor& out, const Tensor& x, const ResizeShape& s);

}  // namespace sg
