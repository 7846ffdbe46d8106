// One element of bias_act in each mode; shared by the CPU loop and the CUDA kernel so both
// compute the same expression. exp arguments beyond +-80 saturate, as in the official kernel.
#pragma once
#include <math.h>

#include "engine/strided.h"
#include "ops/bias_act/bias_act.h"

namespace sg {

// Channel of element i, (i / bias_stride) % bias_size, with 32-bit multiply-high division when the
// tensor has fewer than 2^31 elements (GPUs have no divide instruction), else in 64 bits.
struct BiasIndex {
  bool wide = false;
  int64_t stride = 1, channels = 1;
  IndexDivider stride_div, channel_div;

  explicit BiasIndex(const BiasActParams& p)
      : wide(p.n >= (int64_t(1) << 31)), stride(p.bias_stride), channels(p.bias_size) {
    if (!wide && channels > 0) {
      stride_div = IndexDivider(uint32_t(stride));
      channel_div = IndexDivider(uint32_t(channels));
    }
  }
  SG_HOST_DEVICE int64_t operator()(int64_t i) const {
    if (wide) return (i / stride) % channels;
    const uint32_t plane = stride_div.div(uint32_t(i));
    return int64_t(plane - channel_div.div(plane) * uint32_t(channels));
  }
};

template <class T>
SG_HOST_DEVICE inline T bias_act_element(const BiasActParams& p, T in, T b, T xref, T yref, T dy) {
  const T one = 1, two = 2, exp_range = 80;
  const T selu_scale = T(1.0507009873554804934193349852946), selu_alpha = T(1.6732632423543772848170429916717);
  T alpha = T(p.alpha), gain = T(p.gain), clamp = T(p.clamp);
  T x = p.grad == 0 ? in + b : in;
  xref += b;
  T yy = gain != T(0) ? yref / gain : T(0);
  T y = 0;
  switch (p.act) {
    case Activation::Linear:
      y = p.grad == 2 ? T(0) : x;
      break;
    case Activation::Relu:
      if (p.grad == 0) y = x > T(0) ? x : T(0);
      if (p.grad == 1) y = yy > T(0) ? x : T(0);
      break;
    case Activation::Lrelu:
      if (p.grad == 0) y = x > T(0) ? x : x * alpha;
      if (p.grad == 1) y = yy > T(0) ? x : x * alpha;
      break;
    case Activation::Tanh:
      if (p.grad == 0) {
        T c = exp(x), d = one / c;
        y = x < -exp_range ? -one : (x > exp_range ? one : (c - d) / (c + d));
      }
      if (p.grad == 1) y = x * (one - yy * yy);
      if (p.grad == 2) y = x * (one - yy * yy) * (-two * yy);
      break;
    case Activation::Sigmoid:
      if (p.grad == 0) y = x < -exp_range ? T(0) : one / (exp(-x) + one);
      if (p.grad == 1) y = x * yy * (one - yy);
      if (p.grad == 2) y = x * yy * (one - yy) * (one - two * yy);
      break;
    case Activation::Elu:
      if (p.grad == 0) y = x >= T(0) ? x : exp(x) - one;
      if (p.grad == 1) y = yy >= T(0) ? x : x * (yy + one);
      if (p.grad == 2) y = yy >= T(0) ? T(0) : x * (yy + one);
      break;
    case Activation::Selu:
      if (p.grad == 0) y = x >= T(0) ? selu_scale * x : (selu_scale * selu_alpha) * (exp(x) - one);
      if (p.grad == 1) y = yy >= T(0) ? x * selu_scale : x * (yy + selu_scale * selu_alpha);
      if (p.grad == 2) y = yy >= T(0) ? T(0) : x * (yy + selu_scale * selu_alpha);
      break;
    case Activation::Softplus:
      if (p.grad == 0) y = x > exp_range ? x : log(exp(x) + one);
      if (p.grad == 1) y = x * (one - exp(-yy));
      if (p.grad == 2) {
        T c = exp(-yy);
        y = x * c * (one - c);
      }
      break;
    case Activation::Swish:
      if (p.grad == 0) {
        y = x < -exp_range ? T(0) : x / (exp(-x) + one);
      } else {
        T c = exp(xref), d = c + one;
        if (p.grad == 1)
          y = xref > exp_range ? x : x * c * (xref + d) / (d * d);
        else
          y = xref > exp_range ? T(0) : x * c * (xref * (two - d) + two * d) / (d * d * d);
      }
      break;
  }
  y *= gain * dy;
  if (p.clamp >= 0) {
    if (p.grad == 0)
      y = (y > -clamp && y < clamp) ? y : (y >= T(0) ? clamp : -clamp);
    else
      y = (yref > -clamp && yref < clamp) ? y : T(0);
  }
  return y;
}

}  // namespace sg
