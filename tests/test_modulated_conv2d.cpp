// modulated_conv2d: official fixtures (forward, first order and double backward), equality of
// the fused and unfused paths, gradchecks, float16 pre-normalisation and errors.
#include "autograd/gradcheck.h"
#include "ops/elementwise/elementwise.h"
#include "ops/modulated_conv2d/modulated_conv2d.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"
#include "ops/upfirdn2d/upfirdn2d.h"
#include "tests/fixtures.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

void check_modconv_case(test::FixtureCase& c) {
  const auto& p = c.params;
  double tol = c.mode.device == Device::CPU ? 1e-9 : 1e-4;
  Tensor x = set_requires_grad(c.input("x"));
  Tensor w = set_requires_grad(c.input("w"));
  Tensor styles = set_requires_grad(c.input("styles"));
  ModulatedConvOptions o;
  o.up = p.at("up");
  o.padding = p.at("padding");
  o.demodulate = p.at("demodulate");
  o.fused_modconv = p.at("fused_modconv");
  o.flip_weight = p.at("flip_weight");
  Tensor y = modulated_conv2d(x, w, styles, Tensor(), c.input("f"), o);
  c.expect_close("y", y, tol);
  GradOptions create;
  create.create_graph = true;
  std::vector<Tensor> g = grad({sum(mul(y, c.input("dy")))}, {x, w, styles}, {}, create);
  c.expect_close("dx", g[0], tol);
  c.expect_close("dw", g[1], tol);
  c.expect_close("dstyles", g[2], tol);
  GradOptions allow;
  allow.allow_unused = true;
  std::vector<Tensor> g2 = grad({sum(mul(g[0], c.input("vx")))}, {x, w, styles}, {}, allow);
  // dx does not depend on x when the convolution is linear in x: that gradient is exactly zero.
  if (!g2[0].defined()) g2[0] = Tensor::zeros(x.shape(), x.dtype(), x.device());
  c.expect_close("d2x", g2[0], tol);
  c.expect_close("d2w", g2[1], tol);
  c.expect_close("d2styles", g2[2], tol);
}

SG_REGISTER_FIXTURE("ops_modconv", check_modconv_case);

}  // namespace

TEST_CASE("modulated_conv2d: fused and unfused paths agree, with noise") {
  Tensor f = raw::to(setup_filter(std::vector<double>{1, 3, 3, 1}), DType::Float64, Device::CPU);
  Tensor x = test::random_tensor({2, 3, 5, 5}, 1);
  Tensor w = test::random_tensor({4, 3, 3, 3}, 2);
  Tensor s = test::random_tensor({2, 3}, 3, DType::Float64, Device::CPU, 0.5, 1.5);
  for (int up : {1, 2}) {
    for (bool demodulate : {true, false}) {
      Tensor noise = test::random_tensor({1, 1, 5 * up, 5 * up}, 4);
      ModulatedConvOptions o;
      o.up = up;
      o.padding = 1;
      o.demodulate = demodulate;
      o.flip_weight = up == 1;
      o.fused_modconv = true;
      Tensor fused = modulated_conv2d(x, w, s, noise, f, o);
      o.fused_modconv = false;
      Tensor unfused = modulated_conv2d(x, w, s, noise, f, o);
      CHECK_CLOSE(fused, unfused, 1e-12, 1e-12);  // same math, float64 rounding only
    }
  }
}

TEST_CASE("modulated_conv2d: gradcheck and gradgradcheck") {
  Tensor f = raw::to(setup_filter(std::vector<double>{1, 3, 3, 1}), DType::Float64, Device::CPU);
  for (bool fused : {true, false}) {
    for (int up : {1, 2}) {
      CAPTURE(fused);
      CAPTURE(up);
      Tensor x = set_requires_grad(test::random_tensor({2, 2, 3, 3}, 5));
      Tensor w = set_requires_grad(test::random_tensor({2, 2, 3, 3}, 6));
      Tensor s = set_requires_grad(test::random_tensor({2, 2}, 7, DType::Float64, Device::CPU, 0.5, 1.5));
      ModulatedConvOptions o;
      o.up = up;
      o.padding = 1;
      o.flip_weight = up == 1;
      o.fused_modconv = fused;
      TensorFunction fn = [&](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{modulated_conv2d(in[0], in[1], in[2], Tensor(), f, o)};
      };
      CHECK_GRADCHECK(gradcheck("modulated_conv2d", fn, {x, w, s}));
      CHECK_GRADCHECK(gradgradcheck("modulated_conv2d", fn, {x, w, s}));
    }
  }
}

TEST_CASE("modulated_conv2d: float16 on CUDA matches float32 (pre-normalisation keeps it finite)") {
  SG_REQUIRE_CUDA();
  Tensor x = test::random_tensor({2, 8, 8, 8}, 8, DType::Float32, Device::CUDA);
  Tensor w = test::random_tensor({8, 8, 3, 3}, 9, DType::Float32, Device::CUDA);
  // Large styles: without the pre-normalisation the float16 sums of squares would overflow.
  Tensor s = mul(test::random_tensor({2, 8}, 10, DType::Float32, Device::CUDA, 0.5, 1.5), 1000.0);
  ModulatedConvOptions o;
  o.padding = 1;
  o.fused_modconv = false;
  Tensor ref = modulated_conv2d(x, w, s, Tensor(), Tensor(), o);
  Tensor half = modulated_conv2d(cast(x, DType::Float16), w, s, Tensor(), Tensor(), o);
  CHECK_CLOSE(cast(half, DType::Float32), ref, 2e-2, 2e-2);  // float16 storage: ~3 significant digits
}

TEST_CASE("modulated_conv2d: bad arguments") {
  Tensor x = test::random_tensor({2, 3, 5, 5}, 11);
  Tensor w = test::random_tensor({4, 3, 3, 3}, 12);
  ModulatedConvOptions o;
  o.padding = 1;
  CHECK_THROWS_WITH_ALL(modulated_conv2d(x, w, test::random_tensor({3, 3}, 13), Tensor(), Tensor(), o),
                        "modulated_conv2d", "styles", "[2, 3]", "[3, 3]");
  CHECK_THROWS_WITH_ALL(modulated_conv2d(x, test::random_tensor({4, 2, 3, 3}, 14), test::random_tensor({2, 3}, 15),
                                         Tensor(), Tensor(), o),
                        "modulated_conv2d", "weight", "[4, 2, 3, 3]");
}
