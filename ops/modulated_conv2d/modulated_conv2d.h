// modulated_conv2d: StyleGAN2's style-modulated convolution.
//   w'[n, o, i] = weight[o, i] * styles[n, i]; demodulation scales each output channel by
//   dcoef[n, o] = 1 / sqrt(sum_{i,kh,kw} w'^2 + 1e-8); noise is added after demodulation.
// Two execution paths with the same result:
//   fused:   per-sample weights w' (demodulated) as one grouped convolution with groups = N;
//   unfused: x * styles -> conv2d_resample with the shared weight -> * dcoefs (+ noise), which is
//            what the official trainer uses while training (shared-weight convs are faster).
// With float16 activations and demodulation, weight and styles are pre-normalised by their
// maxima first (the official overflow guard; demodulation cancels it up to the epsilon).
#pragma once
#include "engine/tensor.h"

namespace sg {

struct ModulatedConvOptions {
  int up = 1;
  int down = 1;
  int padding = 0;
  bool demodulate = true;
  bool flip_weight = true;
  bool fused_modconv = true;
};

// x [N, I, H, W]; weight [O, I, kh, kw]; styles [N, I]; noise broadcastable to the output
// [N, O, H', W'] or undefined; resample_filter from setup_filter (or undefined when up = down = 1).
Tensor modulated_conv2d(const Tensor& x, const Tensor& weight, const Tensor& styles, const Tensor& noise,
                        const Tensor& resample_filter, const ModulatedConvOptions& options);

}  // namespace sg
