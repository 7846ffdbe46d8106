// warp_upsampled: the augment pipe's geometric warp in one pass, forward only. Equal to
//   grid_sample(U(reflect_pad(x, pad)), affine_grid(theta, [N, C, Ho, Wo]))
// (bilinear sampling with zeros outside, align_corners false) where U is the 2x upsampling:
//   no filter: torch's bilinear interpolation (align_corners false: each new pixel 3/4 of its
//              nearest and 1/4 of the next, clamped at the border), GGDR's feature maps;
//   a 1-D filter: upsample2d(., filter) (the images' sym6 wavelet),
// without storing the padded and upsampled maps: they are up to 36x the input, and for a
// 512-channel 64x64 feature map the composed ops took 0.1 s per paper256 batch on an H100.
// There is no backward: the augment pipe uses this op only for tensors that need no gradient
// (feature maps, and images in the discriminator's passes) and composes the ops otherwise.
#pragma once
#include "engine/op_args.h"
#include "engine/tensor.h"

namespace sg {

// torch's bilinear 2x interpolation (align_corners false) of [N, C, H, W]: output 2k along an
// axis is 0.75 x[k] + 0.25 x[k - 1], output 2k + 1 is 0.75 x[k] + 0.25 x[k + 1], edges clamped;
// W first, then H. Composed of differentiable ops (any-order gradients).
Tensor upsample2x_bilinear(const Tensor& x);

// x [N, C, H, W] float32/float64; theta [N, 2, 3] (same dtype, any device: it is copied to x's)
// in the normalised coordinates of the padded, upsampled map; pad each side in [0, size - 1];
// filter: undefined, or 1-D taps (up to 16) as setup_filter makes them.
Tensor warp_upsampled(const Tensor& x, const Tensor& theta, Pad4 pad, int64_t Ho, int64_t Wo,
                      const Tensor& filter = Tensor());

struct WarpUpsampledShape {
  int64_t N, C, H, W, Ho, Wo;
  Pad4 pad;
};
// filter: undefined or contiguous 1-D taps in x's dtype and device.
void warp_upsampled_cpu(const Tensor& out, const Tensor& x, const Tensor& theta, const Tensor& filter,
                        const WarpUpsampledShape& s);
void warp_upsampled_cuda(const Tensor& out, const Tensor& x, const Tensor& theta, const Tensor& filter,
                         const WarpUpsampledShape& s);

}  // namespace sg
