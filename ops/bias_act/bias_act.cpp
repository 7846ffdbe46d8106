// bias_act API: defaults, checks, dispatch and the official second-order scheme:
//   bias_act        -> backward: bias_act_grad (mode 1), db = sum of dx over all dims but `dim`
//   bias_act_grad   -> backward: d(dy) = bias_act_grad again (the map is linear in dy), and for
//                      activations with a second derivative d(x) = mode 2, d(b) = its sum
//   mode 2          -> backward: an error (third order is not supported)
#include "ops/bias_act/bias_act.h"

#include <cmath>
#include <numeric>

#include "autograd/autograd.h"
#include "ops/reduce/reduce.h"

namespace sg {

namespace {

const ActivationSpec kSpecs[] = {
    {"linear", 0, 1, false},         {"relu", 0, std::sqrt(2.0), false}, {"lrelu", 0.2, std::sqrt(2.0), false},
    {"tanh", 0, 1, true},            {"sigmoid", 0, 1, true},            {"elu", 0, 1, true},
    {"selu", 0, 1, true},            {"softplus", 0, 1, true},           {"swish", 0, std::sqrt(2.0), true},
};

struct Resolved {
  Activation act;
  int dim;
  double alpha, gain, clamp;
};

// Runs the kernel in one mode. All tensors share dtype and device; undefined ones are skipped.
Tensor run_kernel(const Resolved& r, int grad_mode, const Tensor& in, const Tensor& b, const Tensor& xref,
                  const Tensor& yref, const Tensor& dy) {
  BiasActParams p{r.act, grad_mode, r.alpha, r.gain, r.clamp, in.numel(), 1, 0};
  Tensor x = raw::contiguous(in);
  if (b.defined()) {
    p.bias_size = b.numel();
    p.bias_stride = 1;
    for (int d = r.dim + 1; d < in.dim(); ++d) p.bias_stride *= in.size(d);
  }
  auto prepare = [&](const Tensor& t) { return t.defined() ? raw::contiguous(t) : t; };
  Tensor pb = prepare(b), px = prepare(xref), py = prepare(yref), pdy = prepare(dy);
  if (in.device() == Device::CPU && is_half(in.dtype())) {
    auto widen = [](const Tensor& t) { return t.defined() ? raw::to(t, DType::Float32, Device::CPU) : t; };
    Tensor out = Tensor::empty(in.shape(), DType::Float32, Device::CPU);
    bias_act_cpu(out, widen(x), widen(pb), widen(px), widen(py), widen(pdy), p);
    return raw::to(out, in.dtype(), Device::CPU);
  }
  Tensor out = Tensor::empty(in.shape(), in.dtype(), in.device());
  if (in.is_cuda())
    bias_act_cuda(out, x, pb, px, py, pdy, p);
  else
    bias_act_cpu(out, x, pb, px, py, pdy, p);
  return out;
}

std::vector<int64_t> dims_except(int ndim, int dim) {
  std::vector<int64_t> dims;
  for (int d = 0; d < ndim; ++d)
    if (d != dim) dims.push_back(d);
  return dims;
}

Tensor bias_act_grad2(const Resolved& r, const Tensor& d_dx, const Tensor& x, const Tensor& b, const Tensor& y,
                      const Tensor& dy) {
  Tensor out = run_kernel(r, 2, d_dx, b, x, y, dy);
  record("bias_act_grad2", {d_dx, x, b, dy}, {out}, [](const std::vector<Tensor>&, const std::vector<bool>&) -> std::vector<Tensor> {
    SG_FAIL("bias_act: third-order gradients are not supported");
  });
  return out;
}

// dx = d bias_act / dx applied to dy; y is the forward output's value (no graph).
Tensor bias_act_grad(const Resolved& r, const Tensor& dy, const Tensor& x, const Tensor& b, const Tensor& y) {
  Tensor dx = run_kernel(r, 1, dy, b, x, y, Tensor());
  record("bias_act_grad", {dy, x, b}, {dx}, [r, dy, x, b, y](const std::vector<Tensor>& g, const std::vector<bool>& need) {
    Tensor d_dy, d_x, d_b;
    if (need[0]) d_dy = bias_act_grad(r, g[0], x, b, y);
    if (activation_spec(r.act).has_2nd_grad && (need[1] || need[2])) {
      d_x = bias_act_grad2(r, g[0], x, b, y, dy);
      if (need[2]) d_b = sum(d_x, dims_except(d_x.dim(), r.dim));
    }
    return std::vector<Tensor>{d_dy, need[1] ? d_x : Tensor(), d_b};
  });
  return dx;
}

}  // namespace

Activation parse_activation(const std::string& name) {
  for (int i = 0; i < 9; ++i)
    if (name == kSpecs[i].name) return Activation(i);
  SG_FAIL("bias_act: unknown activation '", name, "' (expected linear, relu, lrelu, tanh, sigmoid, elu, selu, softplus or swish)");
}

const ActivationSpec& activation_spec(Activation act) { return kSpecs[int(act)]; }

Tensor bias_act(const Tensor& x, const Tensor& b, int dim, Activation act, std::optional<double> alpha,
                std::optional<double> gain, std::optional<double> clamp) {
  SG_CHECK(is_floating(x.dtype()), "bias_act: expected a floating x, got ", x.describe());
  SG_CHECK(x.dim() >= 1, "bias_act: expected x with at least one dim, got ", shape_str(x.shape()));
  Resolved r{act, wrap_dim(dim, x.dim(), "bias_act"), alpha.value_or(activation_spec(act).def_alpha),
             gain.value_or(activation_spec(act).def_gain), clamp.value_or(-1)};
  if (b.defined()) {
    SG_CHECK(b.dim() == 1 && b.size(0) == x.size(r.dim), "bias_act: expected bias [", x.size(r.dim), "] for x ",
             shape_str(x.shape()), " and dim ", r.dim, ", got ", shape_str(b.shape()));
    SG_CHECK(b.dtype() == x.dtype() && b.device() == x.device(), "bias_act: bias ", b.describe(), " does not match x ",
             x.describe());
  }
  if (r.act == Activation::Linear && !b.defined() && r.gain == 1 && r.clamp < 0) return x;
  Tensor y = run_kernel(r, 0, x, b, Tensor(), Tensor(), Tensor());
  record("bias_act", {x, b}, {y}, [r, x, b, y_value = y.detach()](const std::vector<Tensor>& g, const std::vector<bool>& need) {
    Tensor dx = bias_act_grad(r, g[0], x, b, y_value);
    Tensor db = need[1] ? sum(dx, dims_except(dx.dim(), r.dim)) : Tensor();
    return std::vector<Tensor>{need[0] ? dx : Tensor(), db};
  });
  return y;
}

}  // namespace sg
