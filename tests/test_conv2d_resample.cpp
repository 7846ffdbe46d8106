// conv2d_resample: official fixtures (forward, dx, dw), gradchecks of each composition path, and
// argument errors.
#include "autograd/gradcheck.h"
#include "ops/conv2d_resample/conv2d_resample.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/upfirdn2d/upfirdn2d.h"
#include "tests/fixtures.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

double fixture_tolerance(const test::FixtureCase& c) { return c.mode.device == Device::CPU ? 1e-9 : 1e-4; }

void check_conv2d_resample_case(test::FixtureCase& c) {
  const auto& p = c.params;
  Tensor x = set_requires_grad(c.input("x"));
  Tensor w = set_requires_grad(c.input("w"));
  Tensor f = c.input("f");
  Tensor y = conv2d_resample(x, w, f, p.at("up"), p.at("down"), p.at("padding").get<int>(), p.at("groups"),
                             p.at("flip_weight"));
  c.expect_close("y", y, fixture_tolerance(c));
  std::vector<Tensor> g = grad({sum(mul(y, c.input("dy")))}, {x, w});
  c.expect_close("dx", g[0], fixture_tolerance(c));
  c.expect_close("dw", g[1], fixture_tolerance(c));
}

SG_REGISTER_FIXTURE("ops_conv2d_resample", check_conv2d_resample_case);

struct ResampleCase {
  int k, up, down, padding, groups;
  bool flip_weight;
};

}  // namespace

TEST_CASE("conv2d_resample: gradcheck and gradgradcheck of every path") {
  Tensor f = raw::to(setup_filter(std::vector<double>{1, 3, 3, 1}), DType::Float64, Device::CPU);
  std::vector<ResampleCase> cases = {
      {3, 2, 1, 1, 1, false},  // transposed conv + FIR (generator conv0)
      {3, 1, 2, 1, 1, true},   // FIR + strided conv (discriminator conv1)
      {1, 1, 2, 0, 1, true},   // 1x1 down (skip)
      {1, 2, 1, 0, 1, false},  // 1x1 up
      {3, 1, 1, 1, 2, true},   // plain grouped conv
      {3, 2, 1, 1, 2, false},  // grouped transposed conv
      {3, 1, 1, 0, 1, true},   // no padding
  };
  for (const ResampleCase& rc : cases) {
    CAPTURE(rc.k);
    CAPTURE(rc.up);
    CAPTURE(rc.down);
    CAPTURE(rc.groups);
    Tensor x = set_requires_grad(test::random_tensor({1, 2 * rc.groups, 4, 4}, 1));
    Tensor w = set_requires_grad(test::random_tensor({2 * rc.groups, 2, rc.k, rc.k}, 2));
    TensorFunction fn = [&](const std::vector<Tensor>& in) {
      return std::vector<Tensor>{
          conv2d_resample(in[0], in[1], f, rc.up, rc.down, rc.padding, rc.groups, rc.flip_weight)};
    };
    CHECK_GRADCHECK(gradcheck("conv2d_resample", fn, {x, w}));
    CHECK_GRADCHECK(gradgradcheck("conv2d_resample", fn, {x, w}));
  }
}

TEST_CASE("conv2d_resample: bad arguments") {
  Tensor x = test::random_tensor({1, 4, 6, 6}, 3);
  Tensor w = test::random_tensor({3, 4, 3, 3}, 4);
  CHECK_THROWS_WITH_ALL(conv2d_resample(test::random_tensor({4, 6, 6}, 5), w), "conv2d_resample", "[4, 6, 6]");
  CHECK_THROWS_WITH_ALL(conv2d_resample(x, w, Tensor(), 0), "conv2d_resample", "up 0");
  CHECK_THROWS_WITH_ALL(conv2d_resample(x, w, Tensor(), 1, 1, 0, 2), "conv2d_resample", "groups 2");
}
