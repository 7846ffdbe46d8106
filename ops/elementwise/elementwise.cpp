// Differentiable elementwise API: checks, broadcasting, device dispatch and the derivative rules
// (each written with differentiable ops, so they can be differentiated again).
#include <algorithm>
#include "ops/elementwise/elementwise.h"

#include "autograd/autograd.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"

namespace sg {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op_name) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    SG_CHECK(da == db || da == 1 || db == 1, op_name, ": shapes ", shape_str(a), " and ", shape_str(b),
             " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {

void check_same(const char* name, const std::vector<Tensor>& inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    SG_CHECK(inputs[i].defined(), name, ": input ", i, " is undefined");
    SG_CHECK(is_floating(inputs[i].dtype()), name, ": expected floating tensors, got ", inputs[i].describe());
    if (i == 0) continue;
    SG_CHECK(inputs[i].dtype() == inputs[0].dtype(), name, ": dtype mismatch, ", inputs[0].describe(),
             " and ", inputs[i].describe(), " (cast one explicitly)");
    SG_CHECK(inputs[i].device() == inputs[0].device(), name, ": device mismatch, ", inputs[0].describe(),
             " and ", inputs[i].describe());
  }
}

// 16-bit tensors on the CPU are computed in float32 and rounded back.
template <class Run>
Tensor run_on_device(const char* name, const std::vector<Tensor>& inputs, const Shape& shape, Run run) {
  check_same(name, inputs);
  DType dtype = inputs[0].dtype();
  Device device = inputs[0].device();
  if (device == Device::CPU && is_half(dtype)) {
    std::vector<Tensor> widened;
    for (const Tensor& t : inputs) widened.push_back(raw::to(t, DType::Float32, Device::CPU));
    Tensor out = Tensor::empty(shape, DType::Float32, Device::CPU);
    run(out, widened, false);
    return raw::to(out, dtype, Device::CPU);
  }
  Tensor out = Tensor::empty(shape, dtype, device);
  if (out.numel() > 0) run(out, inputs, device == Device::CUDA);
  return out;
}

Tensor unary_raw(const char* name, UnaryOp op, const Tensor& x, double a = 0, double b = 0) {
  return run_on_device(name, {x}, x.shape(), [&](const Tensor& out, const std::vector<Tensor>& in, bool cuda) {
    cuda ? unary_cuda(op, out, in[0], a, b) : unary_cpu(op, out, in[0], a, b);
  });
}

Tensor binary_raw(BinaryOp op, const Tensor& x, const Tensor& y, const char* name) {
  check_same(name, {x, y});
  Shape shape = broadcast_shapes(x.shape(), y.shape(), name);
  return run_on_device(name, {x, y}, shape, [&](const Tensor& out, const std::vector<Tensor>& in, bool cuda) {
    cuda ? binary_cuda(op, out, in[0], in[1]) : binary_cpu(op, out, in[0], in[1]);
  });
}

Tensor ternary_raw(TernaryOp op, const Tensor& x, const Tensor& y, const Tensor& z, const char* name) {
  check_same(name, {x, y, z});
  Shape shape = broadcast_shapes(broadcast_shapes(x.shape(), y.shape(), name), z.shape(), name);
  return run_on_device(name, {x, y, z}, shape, [&](const Tensor& out, const std::vector<Tensor>& in, bool cuda) {
    cuda ? ternary_cuda(op, out, in[0], in[1], in[2]) : ternary_cpu(op, out, in[0], in[1], in[2]);
  });
}

// Unary op whose derivative is g * dydx(x).
template <class Derivative>
Tensor unary_op(const char* name, UnaryOp op, const Tensor& x, double a, double b, Derivative dydx) {
  Tensor y = unary_raw(name, op, x, a, b);
  record(name, {x}, {y}, [x, dydx](const std::vector<Tensor>& g, const std::vector<bool>&) {
    return std::vector<Tensor>{mul(g[0], dydx(x))};
  });
  return y;
}

// A piecewise constant op: its gradient is zero, returned as zeros (g * 0 would turn an infinite
// g, or an infinite x in a derivative formula, into NaN).
Tensor piecewise_constant(const char* name, UnaryOp op, const Tensor& x, double a = 0) {
  Tensor y = unary_raw(name, op, x, a);
  record(name, {x}, {y}, [](const std::vector<Tensor>& g, const std::vector<bool>&) {
    return std::vector<Tensor>{Tensor::zeros(g[0].shape(), g[0].dtype(), g[0].device())};
  });
  return y;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(BinaryOp::Add, a, b, "add");
  record("add", {a, b}, {y}, [sa = a.shape(), sb = b.shape()](const std::vector<Tensor>& g, const std::vector<bool>& need) {
    return std::vector<Tensor>{need[0] ? sum_to(g[0], sa) : Tensor(), need[1] ? sum_to(g[0], sb) : Tensor()};
  });
  return y;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(BinaryOp::Sub, a, b, "sub");
  record("sub", {a, b}, {y}, [sa = a.shape(), sb = b.shape()](const std::vector<Tensor>& g, const std::vector<bool>& need) {
    return std::vector<Tensor>{need[0] ? sum_to(g[0], sa) : Tensor(), need[1] ? sum_to(neg(g[0]), sb) : Tensor()};
  });
  return y;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(BinaryOp::Mul, a, b, "mul");
  record("mul", {a, b}, {y}, [a, b](const std::vector<Tensor>& g, const std::vector<bool>& need) {
    return std::vector<Tensor>{need[0] ? sum_to(mul(g[0], b), a.shape()) : Tensor(),
                               need[1] ? sum_to(mul(g[0], a), b.shape()) : Tensor()};
  });
  return y;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(BinaryOp::Div, a, b, "div");
  record("div", {a, b}, {y}, [a, b](const std::vector<Tensor>& g, const std::vector<bool>& need) {
    return std::vector<Tensor>{need[0] ? sum_to(div(g[0], b), a.shape()) : Tensor(),
                               need[1] ? sum_to(neg(div(mul(g[0], a), square(b))), b.shape()) : Tensor()};
  });
  return y;
}

// maximum/minimum: the winner takes the gradient; ties split it in half (as torch).
static Tensor extremum(const char* name, BinaryOp op, BinaryOp wins, const Tensor& a, const Tensor& b) {
  Tensor y = binary_raw(op, a, b, name);
  record(name, {a, b}, {y}, [a, b, wins, name](const std::vector<Tensor>& g, const std::vector<bool>& need) {
    Tensor share_a = add(binary_raw(wins, a, b, name), mul(binary_raw(BinaryOp::Eq, a, b, name), 0.5));
    Tensor share_b = add(neg(share_a), 1.0);
    return std::vector<Tensor>{need[0] ? sum_to(mul(g[0], share_a), a.shape()) : Tensor(),
                               need[1] ? sum_to(mul(g[0], share_b), b.shape()) : Tensor()};
  });
  return y;
}
Tensor maximum(const Tensor& a, const Tensor& b) { return extremum("maximum", BinaryOp::Maximum, BinaryOp::Gt, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return extremum("minimum", BinaryOp::Minimum, BinaryOp::Lt, a, b); }

Tensor add(const Tensor& a, double s) {
  Tensor y = unary_raw("add", UnaryOp::AddScalar, a, s);
  record("add_scalar", {a}, {y}, [](const std::vector<Tensor>& g, const std::vector<bool>&) {
    return std::vector<Tensor>{g[0]};
  });
  return y;
}

Tensor mul(const Tensor& a, double s) {
  Tensor y = unary_raw("mul", UnaryOp::MulScalar, a, s);
  record("mul_scalar", {a}, {y}, [s](const std::vector<Tensor>& g, const std::vector<bool>&) {
    return std::vector<Tensor>{mul(g[0], s)};
  });
  return y;
}

Tensor eq(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::Eq, a, b, "eq"); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::Ne, a, b, "ne"); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::Lt, a, b, "lt"); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::Le, a, b, "le"); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::Gt, a, b, "gt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::Ge, a, b, "ge"); }
Tensor gt(const Tensor& a, double s) { return unary_raw("gt", UnaryOp::GtScalar, a, s); }
Tensor lt(const Tensor& a, double s) { return unary_raw("lt", UnaryOp::LtScalar, a, s); }

Tensor neg(const Tensor& x) {
  Tensor y = unary_raw("neg", UnaryOp::Neg, x);
  record("neg", {x}, {y}, [](const std::vector<Tensor>& g, const std::vector<bool>&) {
    return std::vector<Tensor>{neg(g[0])};
  });
  return y;
}

Tensor abs(const Tensor& x) { return unary_op("abs", UnaryOp::Abs, x, 0, 0, [](const Tensor& x) { return sign(x); }); }

Tensor sign(const Tensor& x) { return piecewise_constant("sign", UnaryOp::Sign, x); }

Tensor exp(const Tensor& x) { return unary_op("exp", UnaryOp::Exp, x, 0, 0, [](const Tensor& x) { return exp(x); }); }
Tensor log(const Tensor& x) { return unary_op("log", UnaryOp::Log, x, 0, 0, [](const Tensor& x) { return reciprocal(x); }); }
Tensor sqrt(const Tensor& x) {
  return unary_op("sqrt", UnaryOp::Sqrt, x, 0, 0, [](const Tensor& x) { return mul(rsqrt(x), 0.5); });
}
Tensor rsqrt(const Tensor& x) {
  return unary_op("rsqrt", UnaryOp::Rsqrt, x, 0, 0, [](const Tensor& x) { return mul(pow(x, -1.5), -0.5); });
}
Tensor square(const Tensor& x) { return unary_op("square", UnaryOp::Square, x, 0, 0, [](const Tensor& x) { return mul(x, 2.0); }); }
Tensor reciprocal(const Tensor& x) {
  return unary_op("reciprocal", UnaryOp::Reciprocal, x, 0, 0, [](const Tensor& x) { return neg(reciprocal(square(x))); });
}
Tensor pow(const Tensor& x, double p) {
  // x^0 is constant; p * x^(p-1) would give 0 * inf = NaN at x = 0.
  if (p == 0) return piecewise_constant("pow", UnaryOp::Pow, x, p);
  return unary_op("pow", UnaryOp::Pow, x, p, 0, [p](const Tensor& x) { return mul(pow(x, p - 1), p); });
}
Tensor clamp(const Tensor& x, double lo, double hi) {
  return unary_op("clamp", UnaryOp::Clamp, x, lo, hi,
                  [lo, hi](const Tensor& x) { return unary_raw("clamp", UnaryOp::ClampMask, x, lo, hi); });
}
Tensor sigmoid(const Tensor& x) {
  return unary_op("sigmoid", UnaryOp::Sigmoid, x, 0, 0, [](const Tensor& x) {
    Tensor s = sigmoid(x);
    return mul(s, add(neg(s), 1.0));
  });
}
Tensor tanh(const Tensor& x) {
  return unary_op("tanh", UnaryOp::Tanh, x, 0, 0, [](const Tensor& x) { return add(neg(square(tanh(x))), 1.0); });
}
Tensor softplus(const Tensor& x) {
  return unary_op("softplus", UnaryOp::Softplus, x, 0, 0, [](const Tensor& x) { return sigmoid(x); });
}
Tensor leaky_relu(const Tensor& x, double slope) {
  return unary_op("leaky_relu", UnaryOp::LeakyRelu, x, slope, 0,
                  [slope](const Tensor& x) { return unary_raw("leaky_relu", UnaryOp::LeakyReluSlope, x, slope); });
}
Tensor sin(const Tensor& x) { return unary_op("sin", UnaryOp::Sin, x, 0, 0, [](const Tensor& x) { return cos(x); }); }
Tensor cos(const Tensor& x) { return unary_op("cos", UnaryOp::Cos, x, 0, 0, [](const Tensor& x) { return neg(sin(x)); }); }
Tensor floor(const Tensor& x) { return piecewise_constant("floor", UnaryOp::Floor, x); }
Tensor round(const Tensor& x) { return piecewise_constant("round", UnaryOp::Round, x); }

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  Tensor y = ternary_raw(TernaryOp::Where, cond, a, b, "where");
  record("where", {cond, a, b}, {y}, [cond, sa = a.shape(), sb = b.shape()](const std::vector<Tensor>& g,
                                                                             const std::vector<bool>& need) {
    Tensor zero = Tensor::zeros({}, g[0].dtype(), g[0].device());
    return std::vector<Tensor>{Tensor(), need[1] ? sum_to(where(cond, g[0], zero), sa) : Tensor(),
                               need[2] ? sum_to(where(cond, zero, g[0]), sb) : Tensor()};
  });
  return y;
}

Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& t) {
  Tensor y = ternary_raw(TernaryOp::Lerp, a, b, t, "lerp");
  record("lerp", {a, b, t}, {y}, [a, b, t](const std::vector<Tensor>& g, const std::vector<bool>& need) {
    return std::vector<Tensor>{need[0] ? sum_to(mul(g[0], add(neg(t), 1.0)), a.shape()) : Tensor(),
                               need[1] ? sum_to(mul(g[0], t), b.shape()) : Tensor(),
                               need[2] ? sum_to(mul(g[0], sub(b, a)), t.shape()) : Tensor()};
  });
  return y;
}

Tensor lerp(const Tensor& a, const Tensor& b, double t) {
  return lerp(a, b, Tensor::scalar(t, a.dtype(), a.device()));
}

Tensor multiply_add(const Tensor& a, const Tensor& b, const Tensor& c) {
  Tensor y = ternary_raw(TernaryOp::MultiplyAdd, a, b, c, "multiply_add");
  record("multiply_add", {a, b, c}, {y}, [a, b, sc = c.shape()](const std::vector<Tensor>& g, const std::vector<bool>& need) {
    return std::vector<Tensor>{need[0] ? sum_to(mul(g[0], b), a.shape()) : Tensor(),
                               need[1] ? sum_to(mul(g[0], a), b.shape()) : Tensor(), need[2] ? sum_to(g[0], sc) : Tensor()};
  });
  return y;
}

}  // namespace sg
