// bias_act: official fixtures (forward, first and second order), gradchecks of every
// activation, the documented kinks, CUDA parity and errors.
#include "autograd/gradcheck.h"
#include "ops/bias_act/bias_act.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"
#include "tests/fixtures.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

std::optional<double> optional_param(const nlohmann::json& p, const char* key) {
  return p.contains(key) ? std::optional<double>(p.at(key).get<double>()) : std::nullopt;
}

void check_bias_act_case(test::FixtureCase& c) {
  const auto& p = c.params;
  double tol = c.mode.device == Device::CPU ? 1e-9 : 1e-4;
  Tensor x = set_requires_grad(c.input("x")), b = set_requires_grad(c.input("b"));
  Activation act = parse_activation(p.at("act"));
  Tensor y = bias_act(x, b, 1, act, optional_param(p, "alpha"), optional_param(p, "gain"), optional_param(p, "clamp"));
  c.expect_close("y", y, tol);
  Tensor dy = set_requires_grad(c.input("dy"));
  GradOptions create;
  create.create_graph = true;
  std::vector<Tensor> g = grad({sum(mul(y, dy))}, {x, b}, {}, create);
  c.expect_close("dx", g[0], tol);
  c.expect_close("db", g[1], tol);
  GradOptions second;
  second.allow_unused = true;
  std::vector<Tensor> g2 = grad({sum(mul(g[0], c.input("vx")))}, {x, b, dy}, {}, second);
  // Activations without a second derivative give no gradient to x and b: the official zero.
  for (size_t i = 0; i < 2; ++i)
    if (!g2[i].defined()) g2[i] = Tensor::zeros(i == 0 ? x.shape() : b.shape(), x.dtype(), x.device());
  c.expect_close("d2x", g2[0], tol);
  c.expect_close("d2b", g2[1], tol);
  c.expect_close("d2dy", g2[2], tol);
}

SG_REGISTER_FIXTURE("ops_bias_act", check_bias_act_case);

const Activation kAll[] = {Activation::Linear, Activation::Relu, Activation::Lrelu, Activation::Tanh, Activation::Sigmoid,
                           Activation::Elu,    Activation::Selu, Activation::Softplus, Activation::Swish};

}  // namespace

TEST_CASE("bias_act: gradcheck and gradgradcheck for every activation") {
  for (Activation act : kAll) {
    CAPTURE(activation_spec(act).name);
    // Values away from 0 so the finite differences never straddle a kink of relu/lrelu/elu.
    Tensor x = test::random_tensor({2, 3, 2, 2}, 1, DType::Float64, Device::CPU, 0.1, 1.5);
    x = set_requires_grad(mul(x, sign(test::random_tensor({2, 3, 2, 2}, 2))));
    Tensor b = set_requires_grad(test::random_tensor({3}, 3, DType::Float64, Device::CPU, -0.05, 0.05));
    for (std::optional<double> clamp : {std::optional<double>(), std::optional<double>(100.0)}) {
      TensorFunction fn = [&](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{bias_act(in[0], in[1], 1, act, std::nullopt, std::nullopt, clamp)};
      };
      CHECK_GRADCHECK(gradcheck("bias_act", fn, {x, b}));
      if (activation_spec(act).has_2nd_grad) CHECK_GRADCHECK(gradgradcheck("bias_act", fn, {x, b}));
    }
  }
}

TEST_CASE("bias_act: clamp after gain, zero gradient where clamped, other dims, no bias") {
  Tensor x = set_requires_grad(Tensor::from_vector({-3, -0.1, 0.1, 3}, {2, 2}, DType::Float64));
  Tensor y = bias_act(x, Tensor(), 0, Activation::Lrelu, std::nullopt, 2.0, 1.0);
  CHECK_CLOSE(y, Tensor::from_vector({-1, -0.04, 0.2, 1}, {2, 2}, DType::Float64), 1e-15, 0);
  Tensor dx = grad({sum(y)}, {x})[0];
  CHECK_CLOSE(dx, Tensor::from_vector({0, 0.4, 2, 0}, {2, 2}, DType::Float64), 1e-15, 0);
  // The lrelu slope at exactly zero is alpha: the mask reads the output's sign.
  Tensor zero = set_requires_grad(Tensor::zeros({1}, DType::Float64));
  CHECK(grad({sum(bias_act(zero, Tensor(), 0, Activation::Lrelu))}, {zero})[0].item() ==
        doctest::Approx(0.2 * std::sqrt(2.0)));
  // Bias along the last dim of a 3-D tensor.
  Tensor x3 = set_requires_grad(test::random_tensor({2, 3, 4}, 4));
  Tensor b3 = set_requires_grad(test::random_tensor({4}, 5));
  TensorFunction fn = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{bias_act(in[0], in[1], 2, Activation::Tanh)};
  };
  CHECK_GRADCHECK(gradcheck("bias_act dim 2", fn, {x3, b3}));
  CHECK_GRADCHECK(gradgradcheck("bias_act dim 2", fn, {x3, b3}));
}

TEST_CASE("bias_act: third order is a clear error") {
  Tensor x = set_requires_grad(test::random_tensor({4}, 6));
  GradOptions create;
  create.create_graph = true;
  Tensor y = bias_act(x, Tensor(), 0, Activation::Tanh);
  Tensor g1 = grad({sum(y)}, {x}, {}, create)[0];
  Tensor g2 = grad({sum(g1)}, {x}, {}, create)[0];
  CHECK_THROWS_WITH_ALL(grad({sum(g2)}, {x}), "bias_act", "third-order");
}

TEST_CASE("bias_act: CUDA matches CPU in float32 and float16, all modes") {
  SG_REQUIRE_CUDA();
  for (Activation act : kAll) {
    CAPTURE(activation_spec(act).name);
    Tensor x = test::random_tensor({3, 37, 5, 7}, 7, DType::Float32, Device::CPU, -3, 3);
    Tensor b = test::random_tensor({37}, 8, DType::Float32);
    Tensor dy = test::random_tensor(x.shape(), 9, DType::Float32);
    auto run = [&](Device device, DType dtype) {
      Tensor xd = set_requires_grad(raw::to(x, dtype, device)), bd = set_requires_grad(raw::to(b, dtype, device));
      Tensor y = bias_act(xd, bd, 1, act, std::nullopt, std::nullopt, 2.0);
      GradOptions create;
      create.create_graph = true;
      std::vector<Tensor> g = grad({sum(mul(y, raw::to(dy, dtype, device)))}, {xd, bd}, {}, create);
      GradOptions allow;
      allow.allow_unused = true;
      Tensor d2 = grad({sum(mul(g[0], raw::to(dy, dtype, device)))}, {xd}, {}, allow)[0];
      return std::vector<Tensor>{y, g[0], g[1], d2.defined() ? d2 : Tensor::zeros(x.shape(), dtype, device)};
    };
    std::vector<Tensor> ref = run(Device::CPU, DType::Float32), got = run(Device::CUDA, DType::Float32);
    for (size_t i = 0; i < ref.size(); ++i) CHECK_CLOSE(got[i], ref[i], 1e-4, 1e-4);  // float32 exp/log differ by ulps
    Tensor xt = transpose(raw::to(x, DType::Float32, Device::CUDA), 2, 3);  // non-contiguous input
    CHECK_CLOSE(bias_act(xt, raw::to(b, DType::Float32, Device::CUDA), 1, act),
                bias_act(transpose(x, 2, 3), b, 1, act), 1e-5, 1e-5);
    Tensor half = bias_act(raw::to(x, DType::Float16, Device::CUDA), raw::to(b, DType::Float16, Device::CUDA), 1, act);
    CHECK_CLOSE(cast(half, DType::Float32), bias_act(x, b, 1, act), 2e-2, 1e-2);  // float16 rounding of x, b and y
  }
}

TEST_CASE("bias_act: bad arguments") {
  Tensor x = test::random_tensor({2, 3, 4}, 10);
  CHECK_THROWS_WITH_ALL(parse_activation("gelu"), "bias_act", "unknown activation 'gelu'");
  CHECK_THROWS_WITH_ALL(bias_act(x, test::random_tensor({4}, 11)), "bias_act", "bias [3]", "[4]");
  CHECK_THROWS_WITH_ALL(bias_act(x, Tensor(), 3), "bias_act", "dim 3 out of range");
}

TEST_CASE("bias_act: CUDA kernel layouts: packed runs, odd channel strides, tails, no bias, float16") {
  SG_REQUIRE_CUDA();
  struct Case {
    Shape shape;
    int dim;
    bool bias;
  };
  // [.., 4, 8]: channel runs of 32 (packs of 4 floats or 8 halves); [.., 5, 7]: runs of 35 (one
  // element per step); [32, 19]: a fully connected layer (bias along the last dim); no bias on an
  // odd count (packs plus a tail).
  for (const Case& c : {Case{{3, 37, 4, 8}, 1, true}, Case{{3, 37, 5, 7}, 1, true}, Case{{32, 19}, 1, true},
                        Case{{2, 3, 1001}, 1, false}, Case{{1, 8, 2, 2}, 1, true}}) {
    for (DType dtype : {DType::Float32, DType::Float16}) {
      CAPTURE(shape_str(c.shape));
      CAPTURE(std::string(dtype_name(dtype)));
      Tensor x = test::random_integers(c.shape, 10, -6, 6, DType::Float32);
      Tensor b = c.bias ? test::random_integers({c.shape[size_t(c.dim)]}, 11, -2, 2, DType::Float32) : Tensor();
      Tensor dy = test::random_integers(c.shape, 12, -3, 3, DType::Float32);
      auto run = [&](Device device) {
        auto to = [&](const Tensor& t) { return t.defined() ? raw::to(t, dtype, device) : t; };
        Tensor xd = set_requires_grad(to(x));
        // lrelu with gain 1 and clamp 4: slopes 1 and 0.25 (exact in float16), clamped outputs.
        Tensor y = bias_act(xd, to(b), c.dim, Activation::Lrelu, 0.25, 1.0, 4.0);
        Tensor dx = grad({y}, {xd}, {to(dy)})[0];
        return std::vector<Tensor>{raw::to(y, DType::Float32, Device::CPU), raw::to(dx, DType::Float32, Device::CPU)};
      };
      std::vector<Tensor> want = run(Device::CPU), got = run(Device::CUDA);
      CHECK_CLOSE(got[0], want[0], 0, 0);
      CHECK_CLOSE(got[1], want[1], 0, 0);
    }
  }
}
