// conv2d_resample: a 2-D convolution combined with FIR up/down-sampling, composed exactly as the
// official StyleGAN2 op so that weights trained there mean the same here:
//   up > 1:   transposed convolution (stride up) followed by the FIR filter with gain up^2;
//   down > 1: the FIR filter followed by a strided convolution;
//   1x1 kernels resample on the cheaper side of the convolution.
// flip_weight = true is cross-correlation (what conv2d computes); false flips the kernel, i.e.
// true convolution, which is what the generator's up-sampling layers use.
#pragma once
#include "engine/op_args.h"
#include "engine/tensor.h"

namespace sg {

// x [N, C, H, W]; w [K, C/groups, kh, kw]; f from setup_filter (undefined = no filtering);
// padding is relative to the up-sampled image and applied once. Output [N, K, H', W'].
Tensor conv2d_resample(const Tensor& x, const Tensor& w, const Tensor& f = Tensor(), int up = 1, int down = 1,
                       Pad4 padding = 0, int groups = 1, bool flip_weight = true, bool flip_filter = false);

}  // namespace sg
