// warp_upsampled (the augment pipe's fused warp) against the compositions it replaces: reflect_pad,
// the 2x bilinear upsampling (GGDR's feature maps) or upsample2d with a FIR filter (images),
// affine_grid and grid_sample; CUDA parity; errors.
#include <cmath>

#include "autograd/autograd.h"
#include "ops/grid_sample/grid_sample.h"
#include "ops/reflect_pad/reflect_pad.h"
#include "ops/upfirdn2d/upfirdn2d.h"
#include "ops/warp_upsampled/warp_upsampled.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

Tensor composed(const Tensor& x, const Tensor& theta, Pad4 pad, int64_t Ho, int64_t Wo, const Tensor& filter = Tensor()) {
  Tensor padded = reflect_pad(x, pad);
  Tensor y = filter.defined() ? upsample2d(padded, filter) : upsample2x_bilinear(padded);
  return grid_sample(y, affine_grid(theta, {x.size(0), x.size(1), Ho, Wo}));
}

// Rotations, scales and shifts that sample partly outside the map.
Tensor random_theta(int64_t n, uint64_t seed, DType dtype) {
  std::vector<double> r = test::random_tensor({n, 4}, seed, DType::Float64).to_vector(), t;
  for (int64_t i = 0; i < n; ++i) {
    double a = r[size_t(i * 4)] * 3, s = 1 + 0.3 * r[size_t(i * 4 + 1)];
    t.insert(t.end(), {s * std::cos(a), -s * std::sin(a), 0.4 * r[size_t(i * 4 + 2)], s * std::sin(a), s * std::cos(a),
                       0.4 * r[size_t(i * 4 + 3)]});
  }
  return Tensor::from_vector(t, {n, 2, 3}, dtype);
}

// The augment pipe's sym6 wavelet (12 taps), a 4-tap binomial and an odd 3-tap filter.
std::vector<Tensor> test_filters() {
  const std::vector<double> sym6 = {0.015404109327027373, 0.0034907120842174702, -0.11799011114819057,
                                    -0.048311742585633, 0.4910559419267466, 0.787641141030194,
                                    0.3379294217276218, -0.07263752278646252, -0.021060292512300564,
                                    0.04472490177066578, 0.0017677118642428036, -0.007800708325034148};
  return {setup_filter(sym6), setup_filter(std::vector<double>{1, 3, 3, 1}, true, false, 1, 1),
          setup_filter(std::vector<double>{1, 2, 1}, true, false, 1, 1)};
}

}  // namespace

TEST_CASE("warp_upsampled: equals reflect_pad + 2x bilinear upsampling + grid_sample") {
  struct Case {
    Shape shape;
    Pad4 pad;
    int64_t Ho, Wo;
  };
  for (const Case& c : {Case{{2, 3, 8, 8}, Pad4(3, 5, 2, 7), 20, 22}, Case{{1, 2, 5, 7}, Pad4(0), 9, 4},
                        Case{{3, 1, 6, 4}, Pad4(3, 3, 5, 5), 16, 16}}) {
    CAPTURE(shape_str(c.shape));
    Tensor x = test::random_tensor(c.shape, 4, DType::Float64);
    Tensor theta = random_theta(c.shape[0], 5, DType::Float64);
    Tensor want = composed(x, theta, c.pad, c.Ho, c.Wo);
    Tensor got = warp_upsampled(x, theta, c.pad, c.Ho, c.Wo);
    REQUIRE(got.shape() == want.shape());
    CHECK_CLOSE(got, want, 1e-12, 1e-12);
    // float32 follows the same steps, so it agrees to rounding.
    Tensor x32 = raw::to(x, DType::Float32, Device::CPU), t32 = raw::to(theta, DType::Float32, Device::CPU);
    CHECK_CLOSE(warp_upsampled(x32, t32, c.pad, c.Ho, c.Wo), composed(x32, t32, c.pad, c.Ho, c.Wo), 1e-5, 1e-5);
  }
}

TEST_CASE("warp_upsampled: with a FIR filter, equals reflect_pad + upsample2d + grid_sample") {
  for (const Tensor& filter : test_filters()) {
    CAPTURE(filter.size(0));
    REQUIRE(filter.dim() == 1);
    for (Pad4 pad : {Pad4(3, 5, 2, 7), Pad4(0), Pad4(7, 0, 0, 6)}) {
      Tensor x = test::random_tensor({2, 3, 8, 9}, 12, DType::Float64);
      Tensor theta = random_theta(2, 13, DType::Float64);
      const int64_t Ho = 2 * (8 + 3), Wo = 2 * (9 + 1);
      CHECK_CLOSE(warp_upsampled(x, theta, pad, Ho, Wo, filter), composed(x, theta, pad, Ho, Wo, filter), 1e-12, 1e-12);
      Tensor x32 = raw::to(x, DType::Float32, Device::CPU), t32 = raw::to(theta, DType::Float32, Device::CPU);
      CHECK_CLOSE(warp_upsampled(x32, t32, pad, Ho, Wo, filter), composed(x32, t32, pad, Ho, Wo, filter), 1e-5, 1e-5);
    }
  }
}

TEST_CASE("warp_upsampled: CUDA matches the CPU in float32 and float64") {
  SG_REQUIRE_CUDA();
  for (DType dtype : {DType::Float32, DType::Float64}) {
    Tensor x = test::random_tensor({4, 5, 16, 12}, 6, dtype);
    Tensor theta = random_theta(4, 7, dtype);
    Tensor cpu = warp_upsampled(x, theta, Pad4(4, 2, 6, 15), 40, 36);
    Tensor cuda = warp_upsampled(raw::to(x, dtype, Device::CUDA), theta, Pad4(4, 2, 6, 15), 40, 36);
    double tol = dtype == DType::Float32 ? 1e-5 : 1e-12;
    CHECK_CLOSE(cuda, cpu, tol, tol);
    for (const Tensor& filter : test_filters()) {
      CAPTURE(filter.size(0));
      Tensor fir_cpu = warp_upsampled(x, theta, Pad4(4, 2, 6, 11), 40, 36, filter);
      Tensor fir_cuda = warp_upsampled(raw::to(x, dtype, Device::CUDA), theta, Pad4(4, 2, 6, 11), 40, 36,
                                       raw::to(filter, dtype, Device::CUDA));
      CHECK_CLOSE(fir_cuda, fir_cpu, tol, tol);
    }
  }
}

TEST_CASE("warp_upsampled: bad arguments and inputs that need a gradient are refused") {
  Tensor x = test::random_tensor({2, 3, 8, 8}, 1, DType::Float32);
  Tensor theta = random_theta(2, 2, DType::Float32);
  CHECK_THROWS_WITH(warp_upsampled(x, random_theta(3, 2, DType::Float32), Pad4(1), 4, 4), doctest::Contains("theta [2, 2, 3]"));
  CHECK_THROWS_WITH(warp_upsampled(x, theta, Pad4(8), 4, 4), doctest::Contains("[0, size - 1]"));
  CHECK_THROWS_WITH(warp_upsampled(raw::to(x, DType::Float16, Device::CPU), theta, Pad4(1), 4, 4),
                    doctest::Contains("float32 or float64"));
  CHECK_THROWS_WITH(warp_upsampled(set_requires_grad(raw::clone(x)), theta, Pad4(1), 4, 4),
                    doctest::Contains("has no gradient"));
  CHECK_THROWS_WITH(warp_upsampled(x, theta, Pad4(1), 4, 4, Tensor::ones({4, 4})),
                    doctest::Contains("1-D filter of 1 to 16 taps"));
  CHECK_THROWS_WITH(warp_upsampled(x, theta, Pad4(1), 4, 4, Tensor::ones({17})), doctest::Contains("[17]"));
}
