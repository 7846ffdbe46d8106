// upfirdn2d: FIR resampling of images, the official StyleGAN2 op. Per channel:
//   1. upsample by inserting up-1 zeros after each pixel,
//   2. pad by [x0, x1, y0, y1] (negative values crop),
//   3. filter with f (flip_filter = false is true convolution, true is correlation),
//   4. keep every down-th pixel, and multiply by gain.
// Output size: out = (in * up + pad0 + pad1 - taps + down) / down per axis.
// A 1-D filter is separable: applied along x, then along y, each pass with sqrt(gain).
// The backward of upfirdn2d is another upfirdn2d, so gradients of any order work. The filter
// itself gets no gradient (asking for one is an error).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/op_args.h"
#include "engine/tensor.h"

namespace sg {

// The official setup_filter: f as 1-D taps [n] or 2-D [fh, fw]. separable: -1 = automatic (1-D
// with >= 8 taps stays separable, shorter 1-D filters become their outer product), 0 = force
// 2-D, 1 = keep 1-D. normalize divides by the sum of all taps, flip flips every axis, gain
// multiplies by gain^(ndim/2). Returns a float32 CPU tensor, [n] or [fh, fw].
Tensor setup_filter(const Tensor& f, bool normalize = true, bool flip_filter = false, double gain = 1,
                    int separable = -1);
Tensor setup_filter(const std::vector<double>& taps, bool normalize = true, bool flip_filter = false, double gain = 1,
                    int separable = -1);

// x [N, C, H, W] (any strides); f [taps] (separable) or [fh, fw], any float dtype and device (it
// is converted to x's device and compute precision); f undefined means the 1x1 identity filter.
Tensor upfirdn2d(const Tensor& x, const Tensor& f, Int2 up = 1, Int2 down = 1, Pad4 padding = 0,
                 bool flip_filter = false, double gain = 1);
// Same-size filtering: pads by half the filter size.
Tensor filter2d(const Tensor& x, const Tensor& f, Pad4 padding = 0, bool flip_filter = false, double gain = 1);
// Upsampling that keeps the image's mean (gain multiplied by up.x * up.y).
Tensor upsample2d(const Tensor& x, const Tensor& f, Int2 up = 2, Pad4 padding = 0, bool flip_filter = false,
                  double gain = 1);
Tensor downsample2d(const Tensor& x, const Tensor& f, Int2 down = 2, Pad4 padding = 0, bool flip_filter = false,
                    double gain = 1);

// Shape arithmetic shared by the CPU loops and the CUDA kernels. A separable filter has
// filter_h = filter_w = taps.
struct UpFirDnParams {
  int N, C, in_h, in_w;
  int64_t stride_n, stride_c, stride_h, stride_w;  // of x, in elements
  int up_x, up_y, down_x, down_y;
  int pad_x0, pad_x1, pad_y0, pad_y1;
  int filter_h, filter_w;
  bool separable;
  bool flip_filter;
  int out_h, out_w;
};

// The params of one call (shapes, factors, x's strides); throws if the output would be empty.
UpFirDnParams upfirdn2d_params(const Tensor& x, const Tensor& f, Int2 up, Int2 down, Pad4 padding, bool flip_filter);

// Raw kernels: x [N, C, H, W] with p's strides; f contiguous [taps] or [fh, fw] in x's compute
// precision (float64 for float64 x, else float32) with the gain already folded in; out contiguous
// [N, C, out_h, out_w] in x's dtype (the CPU loops take float32 or float64 only).
void upfirdn2d_cpu(const Tensor& out, const Tensor& x, const Tensor& f, const UpFirDnParams& p);
// The CUDA kernels (see upfirdn2d.cu). upfirdn2d_cuda runs the tiled (2-D f) or separable (1-D f)
// kernel where it supports the call, else the direct one; only_direct runs the direct one (the
// oracle of the other two). Returns the kernel that ran.
enum class UpFirDnKernel { Direct, Tiled, Separable };
UpFirDnKernel upfirdn2d_cuda(const Tensor& out, const Tensor& x, const Tensor& f, const UpFirDnParams& p,
                             bool only_direct = false);

}  // namespace sg
