// upfirdn2d: official fixtures (forward and dx), setup_filter, gradcheck/gradgradcheck over the
// parameter space, CUDA parity (tiled kernel vs CPU loops) and argument errors.
#include "autograd/gradcheck.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"
#include "ops/upfirdn2d/upfirdn2d.h"
#include "tests/fixtures.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

Int2 int2_param(const nlohmann::json& j) { return j.is_array() ? Int2(j[0].get<int>(), j[1].get<int>()) : Int2(j.get<int>()); }

void check_upfirdn2d_case(test::FixtureCase& c) {
  const auto& p = c.params;
  double tol = c.mode.device == Device::CPU ? 1e-9 : 1e-4;
  auto pad = p.at("padding").get<std::vector<int>>();
  Tensor x = set_requires_grad(c.input("x"));
  Tensor y = upfirdn2d(x, c.raw_tensor("f"), int2_param(p.at("up")), int2_param(p.at("down")),
                       Pad4(pad[0], pad[1], pad[2], pad[3]), p.at("flip_filter"), p.at("gain"));
  c.expect_close("y", y, tol);
  c.expect_close("dx", grad({sum(mul(y, c.input("dy")))}, {x})[0], tol);
}

SG_REGISTER_FIXTURE("ops_upfirdn2d", check_upfirdn2d_case);

struct Config {
  Int2 up, down;
  Pad4 pad;
  bool flip;
  double gain;
  int taps;
  bool separable;
};

std::vector<Config> sweep() {
  return {
      {1, 1, Pad4(1, 1, 1, 1), false, 1.0, 3, false},   {2, 1, Pad4(2, 1, 2, 1), false, 4.0, 4, false},
      {1, 2, Pad4(1, 1, 1, 1), true, 1.0, 4, false},    {4, 1, Pad4(2, 1, 1, 2), false, 2.0, 3, false},
      {1, 4, Pad4(0, 1, 2, 0), false, 1.0, 3, false},   {1, 1, Pad4(1, -1, -1, 2), true, 1.5, 3, false},
      {Int2(2, 1), Int2(1, 2), Pad4(2, 1, 1, 1), false, 2.0, 4, false},
      {2, 1, Pad4(4, 3, 4, 3), false, 4.0, 8, true},    {1, 2, Pad4(3, 3, 3, 3), true, 1.0, 8, true},
  };
}

Tensor filter_for(const Config& c, uint64_t seed) {
  Tensor f = c.separable ? test::random_tensor({c.taps}, seed, DType::Float32, Device::CPU, 0.1, 1)
                         : test::random_tensor({c.taps, c.taps + 1}, seed, DType::Float32, Device::CPU, 0.1, 1);
  return f;
}

}  // namespace

TEST_CASE("upfirdn2d: setup_filter follows the official rules") {
  Tensor f = setup_filter(std::vector<double>{1, 3, 3, 1});
  CHECK(f.shape() == Shape{4, 4});  // short 1-D filters become their outer product
  CHECK(f.to_vector()[0] == doctest::Approx(1.0 / 64));
  CHECK(f.to_vector()[5] == doctest::Approx(9.0 / 64));
  std::vector<double> twelve(12, 1.0);
  twelve[0] = 2;
  Tensor g = setup_filter(twelve, true, true, 4.0);
  CHECK(g.shape() == Shape{12});  // >= 8 taps stay separable
  CHECK(g.to_vector()[11] == doctest::Approx(2.0 / 13 * 2));  // flipped, gain^(1/2)
  CHECK_THROWS_WITH_ALL(setup_filter(test::random_tensor({2, 2, 2}, 1)), "setup_filter", "[2, 2, 2]");
}

TEST_CASE("upfirdn2d: helpers keep the size and the mean") {
  Tensor f = setup_filter(std::vector<double>{1, 3, 3, 1});
  Tensor x = Tensor::ones({1, 2, 6, 6}, DType::Float64);
  Tensor up = upsample2d(x, f);
  CHECK(up.shape() == Shape{1, 2, 12, 12});
  CHECK(up.to_vector()[6 * 12 + 6] == doctest::Approx(1.0));  // interior: DC gain 1
  Tensor down = downsample2d(x, f);
  CHECK(down.shape() == Shape{1, 2, 3, 3});
  CHECK(down.to_vector()[4] == doctest::Approx(1.0));
  CHECK(filter2d(x, f).shape() == x.shape());
}

TEST_CASE("upfirdn2d: gradcheck and gradgradcheck over the parameter space") {
  int k = 0;
  for (const Config& cfg : sweep()) {
    CAPTURE(k++);
    Tensor f = filter_for(cfg, 10 + k);
    Tensor x = set_requires_grad(test::random_tensor({1, 2, 5, 4}, 20 + k));
    TensorFunction fn = [&](const std::vector<Tensor>& in) {
      return std::vector<Tensor>{upfirdn2d(in[0], f, cfg.up, cfg.down, cfg.pad, cfg.flip, cfg.gain)};
    };
    CHECK_GRADCHECK(gradcheck("upfirdn2d", fn, {x}));
    CHECK_GRADCHECK(gradgradcheck("upfirdn2d", fn, {x}));
  }
}

TEST_CASE("upfirdn2d: non-contiguous input and batch 1 give the contiguous result") {
  Tensor f = setup_filter(std::vector<double>{1, 3, 3, 1});
  Tensor x = test::random_tensor({2, 3, 7, 5}, 3);
  Tensor xt = transpose(contiguous(transpose(x, 2, 3)), 2, 3);  // same values, other strides
  CHECK_FALSE(xt.is_contiguous());
  CHECK_CLOSE(upsample2d(xt, f), upsample2d(x, f), 0, 0);
  CHECK_CLOSE(upsample2d(narrow(x, 0, 1, 1), f), narrow(upsample2d(x, f), 0, 1, 1), 0, 0);
}

TEST_CASE("upfirdn2d: CUDA matches CPU in float32 and float16, forward and backward") {
  SG_REQUIRE_CUDA();
  int k = 0;
  for (const Config& cfg : sweep()) {
    CAPTURE(k++);
    Tensor f = filter_for(cfg, 30 + k);
    for (Shape shape : {Shape{2, 3, 37, 45}, Shape{1, 1, 5, 4}, Shape{3, 70, 8, 66}}) {
      Tensor x = test::random_tensor(shape, 40 + k, DType::Float32);
      Tensor ref = upfirdn2d(x, f, cfg.up, cfg.down, cfg.pad, cfg.flip, cfg.gain);
      Tensor xc = set_requires_grad(raw::to(x, DType::Float32, Device::CUDA));
      Tensor y = upfirdn2d(xc, f, cfg.up, cfg.down, cfg.pad, cfg.flip, cfg.gain);
      CHECK_CLOSE(y, ref, 1e-5, 1e-5);  // float32 sums of a few dozen products in another order
      Tensor dy = test::random_tensor(ref.shape(), 50 + k, DType::Float32);
      Tensor xcpu = set_requires_grad(raw::clone(x));
      Tensor dx_ref = grad({sum(mul(upfirdn2d(xcpu, f, cfg.up, cfg.down, cfg.pad, cfg.flip, cfg.gain), dy))}, {xcpu})[0];
      Tensor dx = grad({sum(mul(y, raw::to(dy, DType::Float32, Device::CUDA)))}, {xc})[0];
      CHECK_CLOSE(dx, dx_ref, 1e-5, 1e-5);
      Tensor yh = upfirdn2d(cast(raw::to(x, DType::Float32, Device::CUDA), DType::Float16), f, cfg.up, cfg.down, cfg.pad,
                            cfg.flip, cfg.gain);
      CHECK_CLOSE(cast(yh, DType::Float32), ref, 1e-2, 1e-2);  // float16 input and output rounding
    }
  }
  // A filter too large for the shared-memory tile takes the direct kernel.
  Tensor big = test::random_tensor({40, 40}, 60, DType::Float32, Device::CPU, 0, 1);
  Tensor x = test::random_tensor({1, 2, 64, 64}, 61, DType::Float32);
  Tensor ref = upfirdn2d(x, big, 4, 1, Pad4(20, 20, 20, 20));
  CHECK_CLOSE(upfirdn2d(raw::to(x, DType::Float32, Device::CUDA), big, 4, 1, Pad4(20, 20, 20, 20)), ref, 1e-4, 1e-5);
}

TEST_CASE("upfirdn2d: bad arguments") {
  Tensor x = test::random_tensor({1, 2, 5, 5}, 5);
  Tensor f = setup_filter(std::vector<double>{1, 3, 3, 1});
  CHECK_THROWS_WITH_ALL(upfirdn2d(test::random_tensor({2, 5, 5}, 6), f), "upfirdn2d", "[N, C, H, W]", "[2, 5, 5]");
  CHECK_THROWS_WITH_ALL(upfirdn2d(x, test::random_tensor({2, 2, 2}, 7)), "upfirdn2d", "1-D or 2-D", "[2, 2, 2]");
  CHECK_THROWS_WITH_ALL(upfirdn2d(x, f, 0), "upfirdn2d", "up and down >= 1");
  CHECK_THROWS_WITH_ALL(upfirdn2d(x, f, 1, 1, Pad4(-4, 0, 0, 0)), "upfirdn2d", "output would be empty", "padding [-4, 0, 0, 0]");
}
