// warp_upsampled: GGDR's feature-map warp in one pass, forward only. Equal to
//   grid_sample(upsample2x_bilinear(reflect_pad(x, pad)), affine_grid(theta, [N, C, Ho, Wo]))
// (bilinear sampling with zeros outside, align_corners false; the 2x upsampling as torch's
// bilinear interpolate: each new pixel 3/4 of its nearest and 1/4 of the next, clamped at the
// border), without storing the padded and upsampled maps: for a 512-channel 64x64 map they
// are up to 36x the input, and the composed ops took 0.1 s per paper256 batch on an H100.
// The feature maps are regression targets that never need a gradient, so there is no backward:
// the augment pipe uses this op only for tensors that do not require grad.
#pragma once
#include "engine/op_args.h"
#include "engine/tensor.h"

namespace sg {

// torch's bilinear 2x interpolation (align_corners false) of [N, C, H, W]: output 2k along an
// axis is 0.75 x[k] + 0.25 x[k - 1], output 2k + 1 is 0.75 x[k] + 0.25 x[k + 1], edges clamped;
// W first, then H. Composed of differentiable ops (any-order gradients).
Tensor upsample2x_bilinear(const Tensor& x);

// x [N, C, H, W] float32/float64; theta [N, 2, 3] (same dtype, any device: it is copied to x's)
// in the normalised coordinates of the padded, upsampled map; pad each side in [0, size - 1].
Tensor warp_upsampled(const Tensor& x, const Tensor& theta, Pad4 pad, int64_t Ho, int64_t Wo);

struct WarpUpsampledShape {
  int64_t N, C, H, W, Ho, Wo;
  Pad4 pad;
};
void warp_upsampled_cpu(const Tensor& out, const Tensor& x, const Tensor& theta, const WarpUpsampledShape& s);
void warp_upsampled_cuda(const Tensor& out, const Tensor& x, const Tensor& theta, const WarpUpsampledShape& s);

}  // namespace sg
