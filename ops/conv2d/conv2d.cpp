// conv2d API: checks, output shapes, dispatch and the backward rules, all of them written with
// conv2d, conv_transpose2d and the weight-gradient op so every order of gradient works:
//   conv2d:           dx = conv_transpose2d(dy, w), dw = weight_grad(x, dy), db = sum of dy over N, H, W
//   conv_transpose2d: dx = conv2d(dy, w),           dw = weight_grad(dy, x), db = sum(dy)
//   weight_grad(x, dy) is bilinear: d/dx = conv_transpose2d(dy, ddw), d/d(dy) = conv2d(x, ddw).
#include "ops/conv2d/conv2d.h"

#include "autograd/autograd.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"

namespace sg {

namespace {

thread_local bool weight_gradients = true;

void check_operands(const char* op, const Tensor& x, const Tensor& w, const Tensor& bias) {
  SG_CHECK(x.dim() == 4, op, ": expected x [N, C, H, W], got ", shape_str(x.shape()));
  SG_CHECK(w.dim() == 4, op, ": expected a 4-D weight, got ", shape_str(w.shape()));
  SG_CHECK(is_floating(x.dtype()) && x.dtype() == w.dtype() && x.device() == w.device(), op, ": x ", x.describe(),
           " and weight ", w.describe(), " must be floating tensors of one dtype and device");
  if (bias.defined())
    SG_CHECK(bias.dtype() == x.dtype() && bias.device() == x.device() && bias.dim() == 1, op, ": bias ",
             bias.describe(), " must be 1-D and match x ", x.describe());
}

// y = conv(x, w) shape (x is the convolution's input, y its output).
ConvShape conv_shape(const Tensor& x, const Shape& w_shape, int64_t K, Int2 stride, Int2 padding, int groups, int64_t Ho,
                     int64_t Wo) {
  ConvShape s{x.size(0), x.size(1), x.size(2), x.size(3), K, w_shape[2], w_shape[3], Ho, Wo,
              stride.y, stride.x, padding.y, padding.x, groups};
  return s;
}

// Runs a raw convolution kernel on contiguous operands; 16-bit CPU tensors compute in float32.
template <class CpuFn, class CudaFn>
void dispatch(CpuFn cpu, CudaFn cuda, const Tensor& out, std::vector<Tensor> ins, const ConvShape& s) {
  for (Tensor& t : ins) t = raw::contiguous(t);
  if (out.device() == Device::CUDA) {
    cuda(out, ins[0], ins[1], s);
  } else if (is_half(out.dtype())) {
    Tensor wide = Tensor::empty(out.shape(), DType::Float32, Device::CPU);
    cpu(wide, raw::to(ins[0], DType::Float32, Device::CPU), raw::to(ins[1], DType::Float32, Device::CPU), s);
    out.copy_(wide);
  } else {
    cpu(out, ins[0], ins[1], s);
  }
}

Tensor conv2d_raw(const Tensor& x, const Tensor& w, Int2 stride, Int2 padding, int groups) {
  int64_t Ho = (x.size(2) + 2 * padding.y - w.size(2)) / stride.y + 1;
  int64_t Wo = (x.size(3) + 2 * padding.x - w.size(3)) / stride.x + 1;
  SG_CHECK(Ho > 0 && Wo > 0 && x.size(2) + 2 * padding.y >= w.size(2) && x.size(3) + 2 * padding.x >= w.size(3),
           "conv2d: output would be empty for x ", shape_str(x.shape()), ", w ", shape_str(w.shape()), ", stride ",
           to_string(stride), ", padding ", to_string(padding));
  ConvShape s = conv_shape(x, w.shape(), w.size(0), stride, padding, groups, Ho, Wo);
  Tensor y = Tensor::empty({s.N, s.K, Ho, Wo}, x.dtype(), x.device());
  if (y.numel() > 0) dispatch(conv2d_forward_cpu, conv2d_forward_cuda, y, {x, w}, s);
  return y;
}

// Transposed convolution: out [N, K, Ho, Wo] is the input of a convolution whose output is x.
Tensor conv_transpose2d_raw(const Tensor& x, const Tensor& w, Int2 stride, Int2 padding, Int2 output_padding,
                            int groups) {
  int64_t K = w.size(1) * groups;
  int64_t Ho = (x.size(2) - 1) * stride.y - 2 * padding.y + w.size(2) + output_padding.y;
  int64_t Wo = (x.size(3) - 1) * stride.x - 2 * padding.x + w.size(3) + output_padding.x;
  SG_CHECK(Ho > 0 && Wo > 0, "conv_transpose2d: output would be empty for x ", shape_str(x.shape()), ", w ",
           shape_str(w.shape()), ", stride ", to_string(stride), ", padding ", to_string(padding));
  Tensor out = Tensor::empty({x.size(0), K, Ho, Wo}, x.dtype(), x.device());
  // The convolution that maps `out` to `x`: input channels K, output channels C.
  ConvShape s{x.size(0), K, Ho, Wo, x.size(1), w.size(2), w.size(3), x.size(2), x.size(3),
              stride.y, stride.x, padding.y, padding.x, groups};
  if (out.numel() > 0) {
    if (x.numel() == 0)
      out.fill_(0);
    else
      dispatch(conv2d_backward_data_cpu, conv2d_backward_data_cuda, out, {x, w}, s);
  }
  return out;
}

// y + bias per channel, as a value: the conv's own node gives the bias its gradient, so that
// NoWeightGradientsGuard can skip it together with the weight's.
Tensor add_bias(const Tensor& y, const Tensor& bias) {
  if (!bias.defined()) return y;
  NoGradGuard no_grad;
  return add(y, reshape(bias, {1, -1, 1, 1}));
}

// Output padding that makes conv_transpose2d(conv2d(x)) land back on x's size.
Int2 output_padding_for(const Tensor& x, const Tensor& y, const Shape& w_shape, Int2 stride, Int2 padding) {
  return Int2(int(x.size(3) - ((y.size(3) - 1) * stride.x - 2 * padding.x + w_shape[3])),
              int(x.size(2) - ((y.size(2) - 1) * stride.y - 2 * padding.y + w_shape[2])));
}

// dw for the convolution x -> dy with weight shape w_shape (differentiable in x and dy).
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& dy, const Shape& w_shape, Int2 stride, Int2 padding, int groups) {
  ConvShape s = conv_shape(x, w_shape, dy.size(1), stride, padding, groups, dy.size(2), dy.size(3));
  Tensor dw = Tensor::empty(w_shape, x.dtype(), x.device());
  if (x.size(0) == 0)
    dw.fill_(0);
  else
    dispatch(conv2d_backward_weight_cpu, conv2d_backward_weight_cuda, dw, {x, dy}, s);
  record("conv2d_weight_grad", {x, dy}, {dw}, [x, dy, stride, padding, groups](const std::vector<Tensor>& g,
                                                                               const std::vector<bool>& need) {
    Tensor dx, ddy;
    if (need[0])
      dx = conv_transpose2d(dy, g[0], Tensor(), stride, padding, output_padding_for(x, dy, g[0].shape(), stride, padding),
                            groups);
    if (need[1]) ddy = conv2d(x, g[0], Tensor(), stride, padding, groups);
    return std::vector<Tensor>{dx, ddy};
  });
  return dw;
}

}  // namespace

NoWeightGradientsGuard::NoWeightGradientsGuard() : previous_(weight_gradients) { weight_gradients = false; }
NoWeightGradientsGuard::~NoWeightGradientsGuard() { weight_gradients = previous_; }
bool weight_gradients_enabled() { return weight_gradients; }

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, Int2 stride, Int2 padding, int groups) {
  check_operands("conv2d", x, w, bias);
  SG_CHECK(stride.x >= 1 && stride.y >= 1 && padding.x >= 0 && padding.y >= 0, "conv2d: expected stride >= 1 and padding >= 0, got stride ",
           to_string(stride), ", padding ", to_string(padding));
  SG_CHECK(groups >= 1 && w.size(0) % groups == 0 && x.size(1) == w.size(1) * groups, "conv2d: expected x with ",
           w.size(1) * groups, " channels and K divisible by groups for w ", shape_str(w.shape()), " and groups ", groups,
           ", got x ", shape_str(x.shape()));
  if (bias.defined())
    SG_CHECK(bias.size(0) == w.size(0), "conv2d: expected bias [", w.size(0), "], got ", shape_str(bias.shape()));
  Tensor y = add_bias(conv2d_raw(x, w, stride, padding, groups), bias);
  record("conv2d", {x, w, bias}, {y}, [x, w, stride, padding, groups](const std::vector<Tensor>& g,
                                                                     const std::vector<bool>& need) {
    Tensor dx, dw, db;
    if (need[0])
      dx = conv_transpose2d(g[0], w, Tensor(), stride, padding, output_padding_for(x, g[0], w.shape(), stride, padding),
                            groups);
    if (need[1] && weight_gradients_enabled()) dw = conv2d_weight_grad(x, g[0], w.shape(), stride, padding, groups);
    if (need[2] && weight_gradients_enabled()) db = sum(g[0], {0, 2, 3});
    return std::vector<Tensor>{dx, dw, db};
  });
  return y;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& bias, Int2 stride, Int2 padding,
                        Int2 output_padding, int groups) {
  check_operands("conv_transpose2d", x, w, bias);
  SG_CHECK(stride.x >= 1 && stride.y >= 1 && padding.x >= 0 && padding.y >= 0 && output_padding.x >= 0 &&
               output_padding.y >= 0 && output_padding.x < stride.x && output_padding.y < stride.y,
           "conv_transpose2d: expected stride >= 1, padding >= 0 and 0 <= output_padding < stride, got stride ",
           to_string(stride), ", padding ", to_string(padding), ", output_padding ", to_string(output_padding));
  SG_CHECK(groups >= 1 && x.size(1) == w.size(0) && w.size(0) % groups == 0, "conv_transpose2d: expected x with ",
           w.size(0), " channels (weight [C, K/groups, R, S] = ", shape_str(w.shape()), ", groups ", groups, "), got x ",
           shape_str(x.shape()));
  if (bias.defined())
    SG_CHECK(bias.size(0) == w.size(1) * groups, "conv_transpose2d: expected bias [", w.size(1) * groups, "], got ",
             shape_str(bias.shape()));
  Tensor y = add_bias(conv_transpose2d_raw(x, w, stride, padding, output_padding, groups), bias);
  record("conv_transpose2d", {x, w, bias}, {y}, [x, w, stride, padding, groups](const std::vector<Tensor>& g,
                                                                               const std::vector<bool>& need) {
    Tensor dx, dw, db;
    if (need[0]) dx = conv2d(g[0], w, Tensor(), stride, padding, groups);
    if (need[1] && weight_gradients_enabled()) dw = conv2d_weight_grad(g[0], x, w.shape(), stride, padding, groups);
    if (need[2] && weight_gradients_enabled()) db = sum(g[0], {0, 2, 3});
    return std::vector<Tensor>{dx, dw, db};
  });
  return y;
}

}  // namespace sg
