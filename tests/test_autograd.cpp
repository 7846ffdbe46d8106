// Tape behaviour: accumulation, grad() vs backward(), freed graphs, no-grad, second order.
#include "autograd/gradcheck.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"
#include "tests/test_util.h"

using namespace sg;

TEST_CASE("autograd: backward accumulates into .grad, grad() does not touch it") {
  Tensor x = set_requires_grad(test::random_tensor({4}, 1));
  backward(sum(square(x)));
  backward(sum(square(x)));
  CHECK_CLOSE(grad_of(x), mul(x.detach(), 4.0), 1e-12, 0);
  std::vector<Tensor> g = grad({sum(mul(x, 3.0))}, {x});
  CHECK_CLOSE(g[0], Tensor::full({4}, 3.0, DType::Float64), 0, 0);
  CHECK_CLOSE(grad_of(x), mul(x.detach(), 4.0), 1e-12, 0);
}

TEST_CASE("autograd: a freed graph is a clear error, retain_graph keeps it") {
  Tensor x = set_requires_grad(test::random_tensor({3}, 2));
  Tensor y = sum(exp(x));
  backward(y, Tensor(), true);
  backward(y);
  CHECK_THROWS_WITH_ALL(backward(y), "second time", "retain_graph");
}

TEST_CASE("autograd: no-grad guard records nothing") {
  Tensor x = set_requires_grad(test::random_tensor({3}, 3));
  NoGradGuard guard;
  Tensor y = exp(x);
  CHECK_FALSE(requires_grad(y));
}

TEST_CASE("autograd: grad with respect to an intermediate tensor") {
  Tensor x = set_requires_grad(test::random_tensor({5}, 4));
  Tensor h = mul(x, 2.0);
  Tensor y = sum(square(h));
  std::vector<Tensor> g = grad({y}, {h});
  CHECK_CLOSE(g[0], mul(h.detach(), 2.0), 1e-12, 0);
}

TEST_CASE("autograd: unused input is an error unless allowed") {
  Tensor x = set_requires_grad(test::random_tensor({2}, 5));
  Tensor z = set_requires_grad(test::random_tensor({2}, 6));
  Tensor y = sum(x);
  CHECK_THROWS_WITH_ALL(grad({y}, {z}, {}, GradOptions{false, 1, false}), "not used", "allow_unused");
  GradOptions allow;
  allow.allow_unused = true;
  CHECK_FALSE(grad({y}, {z}, {}, allow)[0].defined());
}

TEST_CASE("autograd: second order through create_graph (d/dx of |grad|^2)") {
  Tensor x = set_requires_grad(test::random_tensor({4}, 7));
  GradOptions options;
  options.create_graph = true;
  Tensor g = grad({sum(pow(x, 3.0))}, {x}, {}, options)[0];  // 3x^2
  Tensor penalty = sum(square(g));                          // 9 x^4
  Tensor gg = grad({penalty}, {x})[0];                      // 36 x^3
  CHECK_CLOSE(gg, mul(pow(x.detach(), 3.0), 36.0), 1e-10, 1e-10);
}

TEST_CASE("autograd: deep chains do not overflow the stack") {
  Tensor x = set_requires_grad(Tensor::scalar(1.0, DType::Float64));
  Tensor y = x;
  for (int i = 0; i < 20000; ++i) y = add(y, 1e-4);
  backward(y);
  CHECK(grad_of(x).item() == doctest::Approx(1.0));
}

TEST_CASE("gradcheck: catches a wrong derivative") {
  Tensor x = set_requires_grad(test::random_tensor({3}, 8));
  // A function whose recorded backward is deliberately wrong: y = x^2 with derivative 3x.
  TensorFunction wrong = [](const std::vector<Tensor>& in) {
    Tensor y = raw::clone(in[0]);
    {
      NoGradGuard guard;
      y = square(in[0]);
    }
    Tensor out = raw::clone(y);
    record("wrong_square", {in[0]}, {out}, [x = in[0]](const std::vector<Tensor>& g, const std::vector<bool>&) {
      return std::vector<Tensor>{mul(g[0], mul(x, 3.0))};
    });
    return std::vector<Tensor>{out};
  };
  GradcheckResult result = gradcheck("wrong_square", wrong, {x});
  CHECK_FALSE(result.ok);
  CHECK(result.message.find("wrong_square") != std::string::npos);
  CHECK(result.message.find("numerical") != std::string::npos);
}

TEST_CASE("gradcheck and gradgradcheck: composite function") {
  Tensor a = set_requires_grad(test::random_tensor({2, 3}, 9));
  Tensor b = set_requires_grad(test::random_tensor({3}, 10, DType::Float64, Device::CPU, 0.5, 2));
  TensorFunction f = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{sum(mul(tanh(in[0]), log(in[1])), {1})};
  };
  CHECK_GRADCHECK(gradcheck("tanh*log", f, {a, b}));
  CHECK_GRADCHECK(gradgradcheck("tanh*log", f, {a, b}));
}
