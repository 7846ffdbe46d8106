// bias_act: the fused bias + activation + gain + clamp of StyleGAN2:
//   y = clamp(act(x + b) * gain, -clamp, clamp)
// with the official activations and defaults (lrelu: alpha 0.2, gain sqrt(2); relu and swish:
// gain sqrt(2)). Gradients as the official kernel computes them: the first derivative masks by
// the saved output (so the lrelu slope at exactly 0 is alpha, and a clamped output passes no
// gradient); second derivatives exist for tanh, sigmoid, elu, selu, softplus and swish and are
// exactly zero for linear, relu and lrelu. Third-order gradients are an error.
#pragma once
#include <optional>
#include <string>

#include "engine/tensor.h"

namespace sg {

enum class Activation { Linear, Relu, Lrelu, Tanh, Sigmoid, Elu, Selu, Softplus, Swish };

struct ActivationSpec {
  const char* name;
  double def_alpha;
  double def_gain;
  bool has_2nd_grad;
};

Activation parse_activation(const std::string& name);
const ActivationSpec& activation_spec(Activation act);

// x: any shape; b: [x.size(dim)] or undefined. alpha/gain default to the activation's values;
// an unset clamp (or a negative one) means no clamping.
Tensor bias_act(const Tensor& x, const Tensor& b = Tensor(), int dim = 1, Activation act = Activation::Linear,
                std::optional<double> alpha = std::nullopt, std::optional<double> gain = std::nullopt,
                std::optional<double> clamp = std::nullopt);

// The raw kernel, in the official three modes on contiguous tensors of one dtype:
//   grad 0: out = forward(in + b)
//   grad 1: out = d forward / d x, evaluated at xref + b (saved input) and yref (saved output),
//           times `in` (the incoming gradient)
//   grad 2: out = the second derivative at (xref + b, yref) times `in` times dy
struct BiasActParams {
  Activation act;
  int grad;
  double alpha, gain, clamp;  // clamp < 0: none
  int64_t n;                  // elements
  int64_t bias_stride;        // x.stride(dim) for a contiguous x: bias index = (i / stride) % C
  int64_t bias_size;          // C, or 0 without bias
};
void bias_act_cpu(const Tensor& out, const Tensor& in, const Tensor& b, const Tensor& xref, const Tensor& yref,
                  const Tensor& dy, const BiasActParams& p);
void bias_act_cuda(const Tensor& out, const Tensor& in, const Tensor& b, const Tensor& xref, const Tensor& yref,
                   const Tensor& dy, const BiasActParams& p);

}  // namespace sg
