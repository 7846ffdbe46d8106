// Elementwise ops: every op of ops/elementwise/elementwise.h against a float64 reference formula
// and hand-computed values, gradcheck and gradgradcheck (broadcasting, non-contiguous inputs,
// size-1, empty and 0-d shapes), the documented rules at ties and kinks, and CUDA-vs-CPU parity in
// float32 and float16, forward and backward.
#include <cmath>
#include <functional>
#include <iterator>

#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "tests/core_test_util.h"

using namespace sg;
using test::check_gradients;
using test::f64;
using test::leaf;
using test::sample;
using test::spread;

namespace {

struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> fn;
  std::function<double(double)> ref;  // the formula in float64, written independently of the op
  double lo, hi;                      // an input range clear of poles and kinks
  bool zero_grad = false;             // piecewise constant: the gradient is zero everywhere
};

double sigmoid_ref(double x) { return 1 / (1 + std::exp(-x)); }

std::vector<UnaryCase> unary_cases() {
  return {
      {"neg", [](const Tensor& x) { return neg(x); }, [](double x) { return -x; }, -1, 1},
      {"abs", [](const Tensor& x) { return abs(x); }, [](double x) { return std::fabs(x); }, -1, 1},
      {"sign", [](const Tensor& x) { return sign(x); }, [](double x) { return double((x > 0) - (x < 0)); }, -1, 1, true},
      {"exp", [](const Tensor& x) { return exp(x); }, [](double x) { return std::exp(x); }, -1, 1},
      {"log", [](const Tensor& x) { return log(x); }, [](double x) { return std::log(x); }, 0.5, 2},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, [](double x) { return std::sqrt(x); }, 0.5, 2},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, [](double x) { return 1 / std::sqrt(x); }, 0.5, 2},
      {"square", [](const Tensor& x) { return square(x); }, [](double x) { return x * x; }, -1, 1},
      {"reciprocal", [](const Tensor& x) { return reciprocal(x); }, [](double x) { return 1 / x; }, 0.5, 2},
      {"pow 2.5", [](const Tensor& x) { return pow(x, 2.5); }, [](double x) { return std::pow(x, 2.5); }, 0.5, 2},
      {"pow 3", [](const Tensor& x) { return pow(x, 3.0); }, [](double x) { return x * x * x; }, -1, 1},
      {"pow -0.5", [](const Tensor& x) { return pow(x, -0.5); }, [](double x) { return 1 / std::sqrt(x); }, 0.5, 2},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.3); },
       [](double x) { return std::min(std::max(x, -0.5), 0.3); }, -1, 1},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, sigmoid_ref, -3, 3},
      {"tanh", [](const Tensor& x) { return tanh(x); }, [](double x) { return std::tanh(x); }, -2, 2},
      {"softplus", [](const Tensor& x) { return softplus(x); }, [](double x) { return std::log1p(std::exp(x)); }, -3, 3},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); },
       [](double x) { return x > 0 ? x : 0.2 * x; }, -1, 1},
      {"sin", [](const Tensor& x) { return sin(x); }, [](double x) { return std::sin(x); }, -3, 3},
      {"cos", [](const Tensor& x) { return cos(x); }, [](double x) { return std::cos(x); }, -3, 3},
      {"floor", [](const Tensor& x) { return floor(x * 3.0); }, [](double x) { return std::floor(3 * x); }, -1, 1, true},
      {"round", [](const Tensor& x) { return round(x * 3.0); }, [](double x) { return std::nearbyint(3 * x); }, -1, 1,
       true},
      {"add scalar", [](const Tensor& x) { return add(x, 1.5); }, [](double x) { return x + 1.5; }, -1, 1},
      {"mul scalar", [](const Tensor& x) { return mul(x, -2.5); }, [](double x) { return -2.5 * x; }, -1, 1},
      {"scalar minus", [](const Tensor& x) { return 2.0 - x; }, [](double x) { return 2 - x; }, -1, 1},
      {"scalar over", [](const Tensor& x) { return 2.0 / x; }, [](double x) { return 2 / x; }, 0.5, 2},
  };
}

struct BinaryCase {
  const char* name;
  std::function<Tensor(const Tensor&, const Tensor&)> fn;
  std::function<double(double, double)> ref;
  double b_lo, b_hi;  // the range of the second operand (the first is always [-1, 1])
};

std::vector<BinaryCase> binary_cases() {
  return {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }, [](double a, double b) { return a + b; }, -1, 1},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }, [](double a, double b) { return a - b; }, -1, 1},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }, [](double a, double b) { return a * b; }, -1, 1},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }, [](double a, double b) { return a / b; }, 0.5, 2},
      {"div negative", [](const Tensor& a, const Tensor& b) { return a / b; }, [](double a, double b) { return a / b; },
       -2, -0.5},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); },
       [](double a, double b) { return std::max(a, b); }, -1, 1},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); },
       [](double a, double b) { return std::min(a, b); }, -1, 1},
      {"lerp 0.3", [](const Tensor& a, const Tensor& b) { return lerp(a, b, 0.3); },
       [](double a, double b) { return a + 0.3 * (b - a); }, -1, 1},
  };
}

// Broadcasting pairs: trailing alignment, size-1 dims on both sides, 0-d, equal shapes.
const std::pair<Shape, Shape> kBroadcastPairs[] = {
    {{2, 1, 3}, {4, 1}}, {{2, 3}, {2, 3}}, {{3}, {}}, {{}, {2, 2}}, {{}, {}}, {{1, 3}, {2, 1}}, {{1, 1, 3}, {1}},
};

// Reference values of a binary op over broadcast shapes, computed index by index.
std::vector<double> broadcast_reference(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f) {
  Shape shape = broadcast_shapes(a.shape(), b.shape(), "test");
  Tensor ea = raw::contiguous(raw::expand(a, shape)), eb = raw::contiguous(raw::expand(b, shape));
  std::vector<double> va = ea.to_vector(), vb = eb.to_vector(), out(va.size());
  for (size_t i = 0; i < va.size(); ++i) out[i] = f(va[i], vb[i]);
  return out;
}

}  // namespace

TEST_CASE("elementwise: unary forward values against float64 formulas and hand-computed ones") {
  for (const UnaryCase& c : unary_cases()) {
    CAPTURE(std::string(c.name));
    Tensor x = sample({3, 5}, 1, c.lo, c.hi);
    std::vector<double> want = x.to_vector();
    for (double& v : want) v = c.ref(v);
    CHECK_CLOSE(c.fn(x), f64(want, {3, 5}), 1e-15, 1e-14);  // float64, up to an ulp or two of formula
    CHECK_CLOSE(c.fn(spread(x)), c.fn(x), 0, 0);  // a strided read gives the same bits
  }
  Tensor x = f64({-1.5, -0.5, 0.0, 0.25, 2}, {5});
  CHECK_CLOSE(neg(x), f64({1.5, 0.5, 0, -0.25, -2}, {5}), 0, 0);
  CHECK_CLOSE(abs(x), f64({1.5, 0.5, 0, 0.25, 2}, {5}), 0, 0);
  CHECK_CLOSE(sign(x), f64({-1, -1, 0, 1, 1}, {5}), 0, 0);
  CHECK_CLOSE(square(x), f64({2.25, 0.25, 0, 0.0625, 4}, {5}), 0, 0);
  CHECK_CLOSE(clamp(x, -1, 0.5), f64({-1, -0.5, 0, 0.25, 0.5}, {5}), 0, 0);
  CHECK_CLOSE(leaky_relu(x, 0.1), f64({-0.15, -0.05, 0, 0.25, 2}, {5}), 1e-16, 0);
  CHECK_CLOSE(floor(x), f64({-2, -1, 0, 0, 2}, {5}), 0, 0);
  CHECK_CLOSE(round(f64({0.5, 1.5, 2.5, -0.5, -1.5, 0.49}, {6})), f64({0, 2, 2, -0, -2, 0}, {6}), 0, 0);  // half to even
  CHECK_CLOSE(sqrt(f64({4, 0.25, 0}, {3})), f64({2, 0.5, 0}, {3}), 0, 0);
  CHECK_CLOSE(rsqrt(f64({4, 0.25}, {2})), f64({0.5, 2}, {2}), 0, 0);
  CHECK_CLOSE(reciprocal(f64({4, -0.5}, {2})), f64({0.25, -2}, {2}), 0, 0);
  CHECK_CLOSE(pow(f64({4, 9, 2}, {3}), 1.5), f64({8, 27, std::sqrt(8.0)}, {3}), 1e-15, 0);
  CHECK_CLOSE(exp(f64({0, 1}, {2})), f64({1, M_E}, {2}), 0, 1e-15);
  CHECK_CLOSE(log(f64({1, M_E}, {2})), f64({0, 1}, {2}), 1e-15, 0);
  CHECK_CLOSE(sigmoid(f64({0, 100, -100}, {3})), f64({0.5, 1, std::exp(-100.0)}, {3}), 0, 1e-15);
  CHECK_CLOSE(tanh(f64({0, 20}, {2})), f64({0, 1}, {2}), 1e-15, 0);
  // softplus is linear above 20 (torch's threshold) and log(2) at 0.
  CHECK_CLOSE(softplus(f64({30, 0, -30}, {3})), f64({30, std::log(2.0), std::exp(-30.0)}, {3}), 1e-16, 1e-12);
  CHECK_CLOSE(sin(f64({0, M_PI / 2}, {2})), f64({0, 1}, {2}), 1e-15, 0);
  CHECK_CLOSE(cos(f64({0, M_PI}, {2})), f64({1, -1}, {2}), 1e-15, 0);
  CHECK_CLOSE(add(x, 1.0), f64({-0.5, 0.5, 1, 1.25, 3}, {5}), 0, 0);
  CHECK_CLOSE(mul(x, -2.0), f64({3, 1, -0.0, -0.5, -4}, {5}), 0, 0);
  CHECK_CLOSE(x / 4.0, f64({-0.375, -0.125, 0, 0.0625, 0.5}, {5}), 0, 0);
  CHECK_CLOSE(1.0 - x, f64({2.5, 1.5, 1, 0.75, -1}, {5}), 0, 0);
  // NaN passes through the clamp and the extremum ops instead of being replaced by a bound.
  Tensor nan = f64({NAN, 1}, {2});
  CHECK(std::isnan(clamp(nan, -1, 1).to_vector()[0]));
  CHECK(std::isnan(maximum(nan, f64({0, 0}, {2})).to_vector()[0]));
  CHECK(std::isnan(minimum(f64({0, 0}, {2}), nan).to_vector()[0]));
}

TEST_CASE("elementwise: unary gradcheck and gradgradcheck, contiguous, strided, 0-d and size-1") {
  for (const UnaryCase& c : unary_cases()) {
    TensorFunction fn = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{c.fn(in[0])}; };
    check_gradients(c.name, fn, {leaf(sample({2, 3}, 2, c.lo, c.hi))});
    Tensor strided = leaf(spread(sample({3, 2}, 3, c.lo, c.hi)));
    CHECK_FALSE(strided.is_contiguous());
    check_gradients(std::string(c.name) + " strided", fn, {strided});
    check_gradients(std::string(c.name) + " 0-d", fn, {leaf(sample({}, 4, c.lo, c.hi))});
    check_gradients(std::string(c.name) + " size-1", fn, {leaf(sample({1, 3, 1}, 5, c.lo, c.hi))});
  }
}

TEST_CASE("elementwise: empty inputs give empty outputs and empty gradients") {
  for (const UnaryCase& c : unary_cases()) {
    CAPTURE(std::string(c.name));
    Tensor e = leaf(Tensor::zeros({0, 3}, DType::Float64));
    Tensor y = c.fn(e);
    CHECK(y.shape() == Shape{0, 3});
    CHECK(grad({sum(y)}, {e})[0].shape() == Shape{0, 3});
    CHECK(c.fn(Tensor::zeros({2, 0}, DType::Float16)).shape() == Shape{2, 0});
  }
  for (const BinaryCase& c : binary_cases()) {
    CAPTURE(std::string(c.name));
    Tensor a = leaf(Tensor::zeros({0, 3}, DType::Float64)), b = leaf(Tensor::ones({3}, DType::Float64));
    Tensor y = c.fn(a, b);
    CHECK(y.shape() == Shape{0, 3});
    std::vector<Tensor> g = grad({sum(y)}, {a, b});
    CHECK(g[0].shape() == Shape{0, 3});
    CHECK(g[1].to_vector() == std::vector<double>{0, 0, 0});  // nothing flowed into b
    CHECK(c.fn(Tensor::zeros({2, 0}), Tensor::zeros({1})).shape() == Shape{2, 0});
  }
  CHECK(where(Tensor::zeros({0}), Tensor::zeros({0}), Tensor::zeros({1})).shape() == Shape{0});
}

TEST_CASE("elementwise: binary forward values with broadcasting") {
  Tensor a = f64({1, -2, 3, 4}, {2, 2});
  Tensor b = f64({10, 20}, {2});
  Tensor m = f64({2, -3}, {2});
  CHECK_CLOSE(add(a, b), f64({11, 18, 13, 24}, {2, 2}), 0, 0);
  CHECK_CLOSE(sub(a, b), f64({-9, -22, -7, -16}, {2, 2}), 0, 0);
  CHECK_CLOSE(sub(b, a), f64({9, 22, 7, 16}, {2, 2}), 0, 0);
  CHECK_CLOSE(mul(a, b), f64({10, -40, 30, 80}, {2, 2}), 0, 0);
  CHECK_CLOSE(div(a, b), f64({0.1, -0.1, 0.3, 0.2}, {2, 2}), 1e-16, 0);
  CHECK_CLOSE(div(b, a), f64({10, -10, 10.0 / 3, 5}, {2, 2}), 0, 1e-15);
  CHECK_CLOSE(maximum(a, m), f64({2, -2, 3, 4}, {2, 2}), 0, 0);
  CHECK_CLOSE(minimum(a, m), f64({1, -3, 2, -3}, {2, 2}), 0, 0);
  CHECK_CLOSE(lerp(a, b, 0.5), f64({5.5, 9, 6.5, 12}, {2, 2}), 0, 0);
  // A column against a row: an outer operation.
  Tensor col = f64({1, 2, 3}, {3, 1}), row = f64({10, 20}, {2});
  CHECK_CLOSE(add(col, row), f64({11, 21, 12, 22, 13, 23}, {3, 2}), 0, 0);
  CHECK_CLOSE(sub(row, col), f64({9, 19, 8, 18, 7, 17}, {3, 2}), 0, 0);
  for (const BinaryCase& c : binary_cases()) {
    for (const auto& [sa, sb] : kBroadcastPairs) {
      CAPTURE(std::string(c.name));
      CAPTURE(shape_str(sa) + " with " + shape_str(sb));
      Tensor x = sample(sa, 6, -1, 1), y = sample(sb, 7, c.b_lo, c.b_hi);
      Shape shape = broadcast_shapes(sa, sb, "test");
      CHECK_CLOSE(c.fn(x, y), f64(broadcast_reference(x, y, c.ref), shape), 1e-15, 1e-15);
      CHECK_CLOSE(c.fn(spread(x), spread(y)), c.fn(x, y), 0, 0);
    }
  }
}

TEST_CASE("elementwise: binary gradcheck and gradgradcheck with broadcasting and strided inputs") {
  for (const BinaryCase& c : binary_cases()) {
    TensorFunction fn = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{c.fn(in[0], in[1])}; };
    for (const auto& [sa, sb] : kBroadcastPairs) {
      std::string label = std::string(c.name) + " " + shape_str(sa) + " with " + shape_str(sb);
      check_gradients(label, fn, {leaf(sample(sa, 8, -1, 1)), leaf(sample(sb, 9, c.b_lo, c.b_hi))});
    }
    check_gradients(std::string(c.name) + " strided", fn,
                    {leaf(spread(sample({2, 3}, 10, -1, 1))), leaf(spread(sample({3}, 11, c.b_lo, c.b_hi)))});
    // Only one side needs a gradient.
    check_gradients(std::string(c.name) + " right only", fn, {sample({2, 3}, 12, -1, 1), leaf(sample({3}, 13, c.b_lo, c.b_hi))});
  }
}

TEST_CASE("elementwise: where and lerp with a tensor weight, broadcast over three operands") {
  Tensor cond = f64({1, 0, 0, 1, 1, 0}, {2, 1, 3});
  Tensor a = f64({1, 2, 3, 4}, {4, 1}), b = f64({-1, -2, -3}, {3});
  Tensor w = where(cond, a, b);
  CHECK(w.shape() == Shape{2, 4, 3});
  CHECK(w.to_vector()[0] == 1);   // cond[0,0,0] = 1: a[0]
  CHECK(w.to_vector()[1] == -2);  // cond[0,0,1] = 0: b[1]
  CHECK(w.to_vector()[22] == 4);  // cond[1,0,1] = 1: a[3]
  CHECK(w.to_vector()[23] == -3);
  CHECK_CLOSE(where(gt(a, 2.5), a, Tensor::zeros({}, DType::Float64)), f64({0, 0, 3, 4}, {4, 1}), 0, 0);
  TensorFunction where_fn = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{where(cond, in[0], in[1])}; };
  check_gradients("where", where_fn, {leaf(sample({4, 1}, 14)), leaf(sample({3}, 15))});
  check_gradients("where strided", where_fn, {leaf(spread(sample({4, 3}, 16))), leaf(sample({}, 17))});

  Tensor t = f64({0, 0.5, 1}, {3});
  CHECK_CLOSE(lerp(a, b, t), f64({1, -0.5, -3, 2, 0, -3, 3, 0.5, -3, 4, 1, -3}, {4, 3}), 0, 0);
  TensorFunction lerp_fn = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{lerp(in[0], in[1], in[2])}; };
  check_gradients("lerp", lerp_fn, {leaf(sample({2, 1, 3}, 18)), leaf(sample({4, 1}, 19)), leaf(sample({3}, 20))});
  check_gradients("lerp strided", lerp_fn,
                  {leaf(spread(sample({2, 3}, 21))), leaf(sample({2, 3}, 22)), leaf(spread(sample({2, 1}, 23)))});

  // multiply_add: [4, 1] * [3] + [2, 1, 3], as the modulated conv's demodulation plus noise.
  Tensor c = f64({10, 20, 30, 40, 50, 60}, {2, 1, 3});
  Tensor fm = multiply_add(a, b, c);
  CHECK(fm.shape() == Shape{2, 4, 3});
  CHECK_CLOSE(fm, add(mul(a, b), c), 0, 0);
  CHECK(fm.to_vector()[0] == 9);     // 1 * -1 + 10
  CHECK(fm.to_vector()[23] == 48);   // 4 * -3 + 60
  TensorFunction fma_fn = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{multiply_add(in[0], in[1], square(in[2]))};
  };
  check_gradients("multiply_add", fma_fn, {leaf(sample({2, 1, 3}, 24)), leaf(sample({4, 1}, 25)), leaf(sample({3}, 26))});
  check_gradients("multiply_add strided", fma_fn,
                  {leaf(spread(sample({2, 3}, 27))), leaf(sample({2, 3}, 28)), leaf(spread(sample({2, 1}, 29)))});
}

TEST_CASE("elementwise: comparisons give 0/1 in the input dtype and no gradient") {
  Tensor a = f64({1, 2, 3}, {3}), b = f64({2, 2, 2}, {3});
  CHECK_CLOSE(eq(a, b), f64({0, 1, 0}, {3}), 0, 0);
  CHECK_CLOSE(ne(a, b), f64({1, 0, 1}, {3}), 0, 0);
  CHECK_CLOSE(lt(a, b), f64({1, 0, 0}, {3}), 0, 0);
  CHECK_CLOSE(le(a, b), f64({1, 1, 0}, {3}), 0, 0);
  CHECK_CLOSE(gt(a, b), f64({0, 0, 1}, {3}), 0, 0);
  CHECK_CLOSE(ge(a, b), f64({0, 1, 1}, {3}), 0, 0);
  CHECK_CLOSE(gt(a, 2.0), f64({0, 0, 1}, {3}), 0, 0);
  CHECK_CLOSE(lt(a, 2.0), f64({1, 0, 0}, {3}), 0, 0);
  CHECK_CLOSE(lt(f64({1, 2}, {2, 1}), f64({1.5, 2.5, 0.5}, {3})), f64({1, 1, 0, 0, 1, 0}, {2, 3}), 0, 0);
  Tensor x = leaf(f64({1, 2, 3}, {3}));
  for (const Tensor& c : {eq(x, b), ne(x, b), lt(x, b), le(x, b), gt(x, b), ge(x, b), gt(x, 0.0), lt(x, 0.0)}) {
    CHECK(c.dtype() == DType::Float64);
    CHECK_FALSE(requires_grad(c));
  }
  CHECK(gt(Tensor::ones({2}, DType::Float16), 0.5).dtype() == DType::Float16);
}

TEST_CASE("elementwise: documented rules at ties and kinks") {
  // maximum/minimum: the larger (smaller) input takes the gradient, a tie splits it in half.
  Tensor a = leaf(f64({1, 2, 0}, {3})), b = leaf(f64({1, 1, 5}, {3}));
  std::vector<Tensor> g = grad({sum(maximum(a, b))}, {a, b});
  CHECK_CLOSE(g[0], f64({0.5, 1, 0}, {3}), 0, 0);
  CHECK_CLOSE(g[1], f64({0.5, 0, 1}, {3}), 0, 0);
  g = grad({sum(minimum(a, b))}, {a, b});
  CHECK_CLOSE(g[0], f64({0.5, 0, 1}, {3}), 0, 0);
  CHECK_CLOSE(g[1], f64({0.5, 1, 0}, {3}), 0, 0);
  // A tie against a broadcast scalar: each tied element sends half to the scalar.
  Tensor s = leaf(Tensor::scalar(1, DType::Float64));
  Tensor v = leaf(f64({1, 1, 0}, {3}));
  g = grad({sum(maximum(v, s))}, {v, s});
  CHECK_CLOSE(g[0], f64({0.5, 0.5, 0}, {3}), 0, 0);
  CHECK(g[1].item() == 2);
  // clamp: gradient 1 inside and at both bounds (as torch.clamp), 0 outside.
  Tensor x = leaf(f64({-2, -1, 0, 1, 2}, {5}));
  CHECK_CLOSE(grad({sum(clamp(x, -1, 1))}, {x})[0], f64({0, 1, 1, 1, 0}, {5}), 0, 0);
  // abs at 0 has gradient 0 (sign(0)); leaky_relu at 0 takes the slope.
  CHECK_CLOSE(grad({sum(abs(x))}, {x})[0], f64({-1, -1, 0, 1, 1}, {5}), 0, 0);
  CHECK_CLOSE(grad({sum(leaky_relu(x, 0.25))}, {x})[0], f64({0.25, 0.25, 0.25, 1, 1}, {5}), 0, 0);
  // sqrt at 0: an infinite slope, as torch.
  Tensor zero = leaf(f64({0}, {1}));
  CHECK(std::isinf(grad({sum(sqrt(zero))}, {zero})[0].item()));
}

TEST_CASE("elementwise: piecewise constant ops and pow(x, 0) give zero gradients, also at inf and 0") {
  Tensor x = leaf(f64({-INFINITY, -1.5, 0, 2.5, INFINITY}, {5}));
  Tensor zeros = Tensor::zeros({5}, DType::Float64);
  CHECK_CLOSE(grad({sum(floor(x))}, {x})[0], zeros, 0, 0);
  CHECK_CLOSE(grad({sum(round(x))}, {x})[0], zeros, 0, 0);
  CHECK_CLOSE(grad({sum(sign(x))}, {x})[0], zeros, 0, 0);
  // x^0 is 1 everywhere, so its derivative is 0 everywhere (not 0 * x^-1 = NaN at 0).
  Tensor p = leaf(f64({0, 2, -3}, {3}));
  CHECK_CLOSE(pow(p, 0.0), f64({1, 1, 1}, {3}), 0, 0);
  CHECK_CLOSE(grad({sum(pow(p, 0.0))}, {p})[0], Tensor::zeros({3}, DType::Float64), 0, 0);
  CHECK_CLOSE(grad({sum(pow(p, 1.0))}, {p})[0], Tensor::ones({3}, DType::Float64), 0, 0);
  CHECK_CLOSE(grad({sum(pow(p, 2.0))}, {p})[0], f64({0, 4, -6}, {3}), 0, 0);
}

TEST_CASE("elementwise: 16-bit tensors on the CPU compute in float32 and round once") {
  Tensor x = sample({64}, 24, -2, 2, DType::Float16);
  std::vector<double> xv = x.to_vector();
  std::vector<double> y = exp(x).to_vector(), s = add(x, x).to_vector();
  for (size_t i = 0; i < xv.size(); ++i) {
    CAPTURE(xv[i]);
    CHECK(y[i] == double(half_to_float(float_to_half(std::exp(float(xv[i]))))));
    CHECK(s[i] == double(half_to_float(float_to_half(float(xv[i]) * 2))));
  }
  Tensor bf = sample({8}, 25, -2, 2, DType::BFloat16);
  std::vector<double> bv = bf.to_vector(), bm = mul(bf, bf).to_vector();
  for (size_t i = 0; i < bv.size(); ++i)
    CHECK(bm[i] == double(bfloat16_to_float(float_to_bfloat16(float(bv[i]) * float(bv[i])))));
  CHECK(exp(x).dtype() == DType::Float16);
  CHECK(mul(bf, bf).dtype() == DType::BFloat16);
}

TEST_CASE("elementwise: CUDA matches CPU for every op in float32 and float16, forward and backward") {
  SG_REQUIRE_CUDA();
  for (DType dtype : {DType::Float32, DType::Float16}) {
    CAPTURE(std::string(dtype_name(dtype)));
    bool f32 = dtype == DType::Float32;
    // float32: device and host libm differ by a few ulps (2^-23 each); float16: results may land
    // one rounding (2^-10 relative) apart; backward chains of several ops compound that, and
    // broadcast gradients are sums whose order differs between the devices.
    double fwd_atol = f32 ? 1e-6 : 1e-3, fwd_rtol = f32 ? 1e-6 : 2e-3;
    double bwd_atol = f32 ? 1e-5 : 2e-3, bwd_rtol = f32 ? 1e-5 : 1e-2;
    for (const UnaryCase& c : unary_cases()) {
      CAPTURE(std::string(c.name));
      // An odd size past any block multiple, batch 1 with odd dims, and a strided view.
      for (int layout = 0; layout < 3; ++layout) {
        CAPTURE(layout);
        Shape shape = layout == 0 ? Shape{1000003} : layout == 1 ? Shape{1, 7, 33} : Shape{33, 7};
        Tensor x = sample(shape, 30 + layout, c.lo, c.hi, dtype);
        Tensor xh = leaf(layout == 2 ? spread(x) : raw::clone(x));
        Tensor xc = leaf(layout == 2 ? spread(test::cuda(x)) : test::cuda(x));
        Tensor yh = c.fn(xh), yc = c.fn(xc);
        CHECK(yc.is_cuda());
        CHECK_PARITY(yc, yh, fwd_atol, fwd_rtol);
        Tensor dy = sample(shape, 40 + layout, -1, 1, dtype);
        Tensor gh = grad({yh}, {xh}, {dy})[0], gc = grad({yc}, {xc}, {test::cuda(dy)})[0];
        CHECK_PARITY(gc, gh, bwd_atol, bwd_rtol, c.zero_grad);
      }
    }
    const std::pair<Shape, Shape> pairs[] = {{{1000003}, {1000003}}, {{7, 1, 33}, {5, 1}}, {{1, 33}, {4, 1}}, {{}, {3, 5}}};
    for (const BinaryCase& c : binary_cases()) {
      for (size_t k = 0; k < std::size(pairs); ++k) {
        CAPTURE(std::string(c.name));
        CAPTURE(k);
        auto [sa, sb] = pairs[k];
        Tensor a = sample(sa, 50 + k, -1, 1, dtype), b = sample(sb, 60 + k, c.b_lo, c.b_hi, dtype);
        bool strided = k == 2;  // a strided left operand broadcast against a column
        Tensor ah = leaf(strided ? spread(a) : raw::clone(a)), bh = leaf(raw::clone(b));
        Tensor ac = leaf(strided ? spread(test::cuda(a)) : test::cuda(a)), bc = leaf(test::cuda(b));
        Tensor yh = c.fn(ah, bh), yc = c.fn(ac, bc);
        CHECK_PARITY(yc, yh, fwd_atol, fwd_rtol);
        Tensor dy = sample(yh.shape(), 70 + k, -1, 1, dtype);
        std::vector<Tensor> gh = grad({yh}, {ah, bh}, {dy}), gc = grad({yc}, {ac, bc}, {test::cuda(dy)});
        // An extremum may send a small operand nothing at all.
        bool extremum = std::string(c.name) == "maximum" || std::string(c.name) == "minimum";
        CHECK_PARITY(gc[0], gh[0], bwd_atol, bwd_rtol, extremum);
        CHECK_PARITY(gc[1], gh[1], bwd_atol, bwd_rtol, extremum);
      }
    }
    // Integer-valued inputs: sums, products, extrema and comparisons are exact on both devices.
    Tensor ia = test::random_integers({999, 1001}, 80, -8, 8, dtype), ib = test::random_integers({1001}, 81, -8, 8, dtype);
    Tensor ca = test::cuda(ia), cb = test::cuda(ib);
    CHECK_PARITY(add(ca, cb), add(ia, ib), 0, 0);
    CHECK_PARITY(sub(ca, cb), sub(ia, ib), 0, 0);
    CHECK_PARITY(mul(ca, cb), mul(ia, ib), 0, 0);
    CHECK_PARITY(maximum(ca, cb), maximum(ia, ib), 0, 0);
    CHECK_PARITY(minimum(ca, cb), minimum(ia, ib), 0, 0);
    CHECK_PARITY(abs(ca), abs(ia), 0, 0);
    CHECK_PARITY(square(ca), square(ia), 0, 0);
    CHECK_PARITY(floor(ca * 0.5), floor(ia * 0.5), 0, 0);
    CHECK_PARITY(round(ca * 0.5), round(ia * 0.5), 0, 0);
    CHECK_PARITY(sign(ca), sign(ia), 0, 0);
    CHECK_PARITY(eq(ca, cb), eq(ia, ib), 0, 0);
    CHECK_PARITY(ne(ca, cb), ne(ia, ib), 0, 0);
    CHECK_PARITY(lt(ca, cb), lt(ia, ib), 0, 0);
    CHECK_PARITY(le(ca, cb), le(ia, ib), 0, 0);
    CHECK_PARITY(gt(ca, cb), gt(ia, ib), 0, 0);
    CHECK_PARITY(ge(ca, cb), ge(ia, ib), 0, 0);
    CHECK_PARITY(gt(ca, 0.5), gt(ia, 0.5), 0, 0);
    CHECK_PARITY(lt(ca, 0.5), lt(ia, 0.5), 0, 0);
    CHECK_PARITY(clamp(ca, -3, 2), clamp(ia, -3, 2), 0, 0);
    CHECK_PARITY(where(gt(ca, 0.0), ca, cb), where(gt(ia, 0.0), ia, ib), 0, 0);
    // where and lerp (tensor weight) with three broadcast operands, forward and backward.
    Tensor cond = test::random_integers({6, 1, 37}, 82, 0, 1, dtype);
    Tensor wa = sample({5, 1}, 83, -1, 1, dtype), wb = sample({37}, 84, -1, 1, dtype), wt = sample({6, 5, 1}, 85, 0, 1, dtype);
    Tensor ah = leaf(raw::clone(wa)), bh = leaf(raw::clone(wb)), th = leaf(raw::clone(wt));
    Tensor ac = leaf(test::cuda(wa)), bc = leaf(test::cuda(wb)), tc = leaf(test::cuda(wt));
    Tensor wh = where(cond, ah, bh), wc = where(test::cuda(cond), ac, bc);
    CHECK_PARITY(wc, wh, 0, 0);
    Tensor dy = sample(wh.shape(), 86, -1, 1, dtype);
    std::vector<Tensor> gh = grad({wh}, {ah, bh}, {dy}), gc = grad({wc}, {ac, bc}, {test::cuda(dy)});
    CHECK_PARITY(gc[0], gh[0], bwd_atol, bwd_rtol);
    CHECK_PARITY(gc[1], gh[1], bwd_atol, bwd_rtol);
    Tensor lh = lerp(ah, bh, th), lc = lerp(ac, bc, tc);
    CHECK_PARITY(lc, lh, fwd_atol, fwd_rtol);
    gh = grad({lh}, {ah, bh, th}, {dy});
    gc = grad({lc}, {ac, bc, tc}, {test::cuda(dy)});
    for (int i = 0; i < 3; ++i) CHECK_PARITY(gc[i], gh[i], bwd_atol, bwd_rtol);
  }
}

TEST_CASE("elementwise: CUDA kernels for every operand layout (packed, mapped, 64-bit strided)") {
  SG_REQUIRE_CUDA();
  for (DType dtype : {DType::Float32, DType::Float16, DType::Float64}) {
    CAPTURE(std::string(dtype_name(dtype)));
    // Integer values: every result is exact on both devices whatever kernel computes it.
    Tensor a = test::random_integers({3, 5, 7, 9}, 90, -8, 8, dtype), b = test::random_integers({3, 5, 7, 9}, 91, -8, 8, dtype);
    Tensor ca = test::cuda(a), cb = test::cuda(b);
    // Contiguous and aligned (16-byte packs and a tail of 945 % 8 elements).
    CHECK_PARITY(mul(ca, cb), mul(a, b), 0, 0);
    // Contiguous but one element in: not 16-byte aligned, so the mapped kernel.
    auto shifted = [](const Tensor& t) { return raw::reshape(raw::narrow(raw::reshape(t, {-1}), 0, 1, 944), {8, 118}); };
    CHECK_PARITY(add(shifted(ca), shifted(cb)), add(shifted(a), shifted(b)), 0, 0);
    // Broadcasts as the networks use them: per-channel [1, C, 1, 1] and per-sample [N, C, 1, 1].
    Tensor bias = test::random_integers({1, 5, 1, 1}, 92, -4, 4, dtype), styles = test::random_integers({3, 5, 1, 1}, 93, -4, 4, dtype);
    CHECK_PARITY(add(ca, test::cuda(bias)), add(a, bias), 0, 0);
    CHECK_PARITY(mul(ca, test::cuda(styles)), mul(a, styles), 0, 0);
    CHECK_PARITY(where(gt(ca, 0.0), test::cuda(styles), cb), where(gt(a, 0.0), styles, b), 0, 0);
    Tensor noise = test::random_integers({3, 1, 7, 9}, 94, -4, 4, dtype);
    CHECK_PARITY(multiply_add(ca, test::cuda(styles), test::cuda(noise)), multiply_add(a, styles, noise), 0, 0);
    // A reversed view (negative strides): the general 64-bit kernel.
    auto reversed = [](const Tensor& t) { return raw::reshape(t, {-1}).as_strided({945}, {-1}, 944); };
    CHECK_PARITY(sub(reversed(ca), test::cuda(raw::reshape(b, {-1}))), sub(reversed(a), raw::reshape(b, {-1})), 0, 0);
    // Unary ops take the same paths.
    CHECK_PARITY(abs(ca), abs(a), 0, 0);
    CHECK_PARITY(neg(shifted(ca)), neg(shifted(a)), 0, 0);
    CHECK_PARITY(square(reversed(ca)), square(reversed(a)), 0, 0);
  }
}
