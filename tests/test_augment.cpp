// The augmentation pipe: official fixtures (every augmentation alone and the bgc / bgcfc presets at
// three debug percentiles, with GGDR's feature map), exact blits, perfect reconstruction of the
// identity warp, the filter bank, noise statistics, the ADA controller, gradients of every order,
// reflect_pad, CUDA parity and errors.
#include <cmath>

#include "autograd/gradcheck.h"
#include "models/augment.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/reflect_pad/reflect_pad.h"
#include "ops/shape/shape.h"
#include "tests/fixtures.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

// y = pipe(in/images) and dx = grad of sum(y * dy), as the exporter computed them in float32;
// GGDR files also hold the feature map (keyed by its resolution) moved along with the images.
void check_augment_case(test::FixtureCase& c) {
  // float32 on both sides; the pipe chains five resampling stages (pad, FIR up, bilinear, FIR down).
  const double tol = 1e-4;
  RandomGenerator rng(0);
  AugmentPipe pipe(AugmentConfig::from_json(c.params.at("augment")), rng);
  pipe.p = std::stod(c.file->metadata.at("p"));
  pipe.debug_percentile = c.params.at("debug_percentile").get<double>();
  Tensor images = set_requires_grad(raw::clone(raw::to(c.file->at("in/images"), c.mode.dtype, c.mode.device)));
  std::map<int, Tensor> features;
  int key = 0;
  if (c.file->has("in/gfeat")) {
    Tensor f = raw::clone(raw::to(c.file->at("in/gfeat"), c.mode.dtype, c.mode.device));
    key = int(f.size(2));
    features[key] = f;
  }
  Tensor y = pipe.forward(images, key ? &features : nullptr);
  c.expect_close("y", y, tol);
  c.expect_close("dx", grad({sum(mul(y, c.input("dy")))}, {images})[0], tol);
  if (key) c.expect_close("gfeat", features.at(key), tol);
}

const std::vector<test::FixtureMode> kAugmentModes = {{Device::CPU, DType::Float32, "cpu float32"},
                                                      {Device::CUDA, DType::Float32, "cuda float32"}};
SG_REGISTER_FIXTURE("augment_stylegan2", check_augment_case, kAugmentModes);
SG_REGISTER_FIXTURE("augment_ggdr", check_augment_case, kAugmentModes);

AugmentConfig only(const char* name) { return AugmentConfig::from_json({{name, 1}}); }

}  // namespace

TEST_CASE("augment: presets and keyword arguments") {
  AugmentConfig bgc = AugmentConfig::preset("bgc");
  CHECK(bgc.xflip == 1);
  CHECK(bgc.xfrac == 1);
  CHECK(bgc.saturation == 1);
  CHECK(bgc.imgfilter == 0);
  CHECK(bgc.noise_std == 0.1);
  AugmentConfig all = AugmentConfig::preset("bgcfnc");
  CHECK((all.imgfilter == 1 && all.noise == 1 && all.cutout == 1));
  AugmentConfig filter = AugmentConfig::preset("filter");
  CHECK((filter.imgfilter == 1 && filter.xflip == 0 && !filter.any_geometric()));
  AugmentConfig custom =
      AugmentConfig::from_json({{"rotate", 0.5}, {"rotate_max", 0.25}, {"imgfilter_bands", {1, 0, 0, 1}}});
  CHECK(custom.rotate == 0.5);
  CHECK(custom.rotate_max == 0.25);
  CHECK(custom.imgfilter_bands == std::vector<double>{1, 0, 0, 1});
  CHECK(AugmentConfig::from_json(custom.to_json()).to_json() == custom.to_json());
}

TEST_CASE("augment: the sym2 filter bank") {
  RandomGenerator rng(1);
  AugmentPipe pipe(AugmentConfig{}, rng);
  const Tensor& bank = pipe.filter_bank();
  REQUIRE(bank.shape() == Shape{4, 43});
  std::vector<double> v = bank.to_vector();
  for (int b = 0; b < 4; ++b) {
    double s = 0;
    for (int k = 0; k < 43; ++k) {
      s += v[size_t(b * 43 + k)];
      CHECK(v[size_t(b * 43 + k)] == doctest::Approx(v[size_t(b * 43 + 42 - k)]).epsilon(1e-6));  // zero phase
    }
    CHECK(s == doctest::Approx(b == 0 ? 1.0 : 0.0).epsilon(1e-6));  // only the lowest band passes DC
  }
  // The bands split the identity: their sum is a unit impulse at the centre.
  for (int k = 0; k < 43; ++k) {
    double s = v[size_t(k)] + v[size_t(43 + k)] + v[size_t(86 + k)] + v[size_t(129 + k)];
    CHECK(s == doctest::Approx(k == 21 ? 1.0 : 0.0).epsilon(1e-6));
  }
}

TEST_CASE("augment: the identity warp reconstructs the image, blits move pixels exactly") {
  // float64 images, but the matrices are float32 as in the official code: sample positions are off
  // by ~1e-6 pixel, so values agree to ~1e-6.
  const double tol = 1e-5;
  Tensor x = test::random_tensor({2, 3, 9, 8}, 2);
  RandomGenerator rng(2);
  // p = 0: every gate closes, but the geometric pass still runs (as the official pipe does) and
  // the orthogonal sym6 up/down pair must give the image back.
  AugmentPipe identity(AugmentConfig::preset("bg"), rng);
  CHECK_CLOSE(identity.forward(x), x, tol, 0);

  // A mirror or half turn reverses the sym6 filter between the up and down passes, and sym6 is only
  // nearly symmetric (centroid at tap 5.10, not 5.5): the official pipe mirrors with a shift of
  // ~0.2 pixel, so a low-frequency image (slope <= 0.08 per pixel) matches the exact mirror to 2e-2.
  std::vector<double> smooth;
  for (int n = 0; n < 2 * 3; ++n)
    for (int i = 0; i < 9; ++i)
      for (int j = 0; j < 8; ++j) smooth.push_back(std::cos(0.1 * i + n) * std::sin(0.08 * j + 0.2));
  Tensor s = Tensor::from_vector(smooth, {2, 3, 9, 8}, DType::Float64);
  AugmentPipe xflip(only("xflip"), rng);
  xflip.p = 1;
  xflip.debug_percentile = 0.75;  // i = floor(1.5) = 1: mirror every image
  CHECK_CLOSE(xflip.forward(s), flip(s, {3}), 2e-2, 0);
  AugmentPipe rot90(only("rotate90"), rng);
  rot90.p = 1;
  rot90.debug_percentile = 0.6;  // i = floor(2.4) = 2: half turn
  CHECK_CLOSE(rot90.forward(s), flip(s, {2, 3}), 2e-2, 0);
  // Along an axis where the image is constant, the mirror is exact.
  Tensor columns = expand(test::random_tensor({2, 3, 9, 1}, 3), {2, 3, 9, 8});
  CHECK_CLOSE(xflip.forward(columns), columns, tol, 0);

  AugmentPipe xint(only("xint"), rng);
  xint.p = 1;
  xint.debug_percentile = 1.0;  // t = 0.125: output (x, y) reads input (x - 1, y - 1)
  Tensor shifted = xint.forward(x);
  CHECK_CLOSE(narrow(narrow(shifted, 3, 1, 7), 2, 1, 8), narrow(narrow(x, 3, 0, 7), 2, 0, 8), tol, 0);
}

TEST_CASE("augment: color matrices keep grey on the luma axis and work on L images") {
  RandomGenerator rng(3);
  Tensor grey = mul(Tensor::ones({2, 3, 4, 4}, DType::Float64), 0.3);
  AugmentPipe hue_sat(AugmentConfig::from_json({{"hue", 1}, {"saturation", 1}}), rng);
  hue_sat.p = 1;
  CHECK_CLOSE(hue_sat.forward(grey), grey, 1e-6, 0);  // float32 matrices
  AugmentPipe lumaflip(only("lumaflip"), rng);
  lumaflip.p = 1;
  lumaflip.debug_percentile = 0.9;  // i = 1: grey g becomes -g
  CHECK_CLOSE(lumaflip.forward(grey), neg(grey), 1e-6, 0);
  // One channel: brightness 0.2 * erfinv(0.8) added, contrast 2^(0.5 erfinv(0.8)) applied first.
  AugmentPipe bc(AugmentConfig::from_json({{"brightness", 1}, {"contrast", 1}, {"hue", 1}}), rng);
  bc.p = 1;
  bc.debug_percentile = 0.9;
  Tensor l = test::random_tensor({1, 1, 3, 3}, 4);
  const double e = 0.9061938024368232;  // erfinv(0.8)
  CHECK_CLOSE(bc.forward(l), add(mul(l, std::exp2(0.5 * e)), 0.2 * e * std::exp2(0.5 * e)), 1e-6, 0);
}

TEST_CASE("augment: additive noise follows |N(0, 1)| * 0.1 per image") {
  RandomGenerator rng(4);
  AugmentPipe pipe(only("noise"), rng);
  Tensor zeros = Tensor::zeros({400, 1, 16, 16});
  CHECK(pipe.forward(zeros).to_vector() == zeros.to_vector());  // p = 0: nothing drawn applies
  pipe.p = 1;
  std::vector<double> y = pipe.forward(zeros).to_vector();
  double mean = 0, mean_sigma = 0, mean_var = 0;
  for (int n = 0; n < 400; ++n) {
    double s = 0, s2 = 0;
    for (int k = 0; k < 256; ++k) {
      double v = y[size_t(n * 256 + k)];
      s += v;
      s2 += v * v;
    }
    mean += s / (400 * 256);
    mean_sigma += std::sqrt(s2 / 256) / 400;
    mean_var += s2 / 256 / 400;
  }
  CHECK(std::abs(mean) < 2e-3);  // 5 standard errors of the mean of 102400 draws of std <= 0.1
  // E|z| * 0.1 = 0.0798 and E[z^2] * 0.01 = 0.01; 400 images give ~4% (7%) standard errors.
  CHECK(mean_sigma == doctest::Approx(0.1 * std::sqrt(2 / M_PI)).epsilon(0.15));
  CHECK(mean_var == doctest::Approx(0.01).epsilon(0.3));
  pipe.p = 0.5;
  std::vector<double> half = pipe.forward(zeros).to_vector();
  int untouched = 0;
  for (int n = 0; n < 400; ++n) untouched += half[size_t(n * 256)] == 0.0 && half[size_t(n * 256 + 1)] == 0.0;
  CHECK(untouched > 160);  // about 200 of 400 gates closed
  CHECK(untouched < 240);
}

TEST_CASE("augment: cutout zeroes a half-size rectangle") {
  RandomGenerator rng(5);
  AugmentPipe pipe(only("cutout"), rng);
  pipe.p = 1;
  pipe.debug_percentile = 0.5;  // centred rectangle covering pixels 2..5 of 8
  std::vector<double> y = pipe.forward(Tensor::ones({1, 1, 8, 8}, DType::Float64)).to_vector();
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) CHECK(y[size_t(i * 8 + j)] == ((i >= 2 && i < 6 && j >= 2 && j < 6) ? 0.0 : 1.0));
}

TEST_CASE("augment: random draws replay from the generator state and differ between images") {
  RandomGenerator rng(6);
  AugmentPipe pipe(AugmentConfig::preset("bgc"), rng);
  pipe.p = 1;
  Tensor x = test::random_tensor({2, 3, 8, 8}, 7, DType::Float32);
  GeneratorState s = rng.state();
  Tensor a = pipe.forward(x);
  CHECK(rng.state().offset > s.offset);
  rng.set_state(s);
  CHECK(pipe.forward(x).to_vector() == a.to_vector());
  Tensor twin = cat({narrow(x, 0, 0, 1), narrow(x, 0, 0, 1)}, 0);
  Tensor b = pipe.forward(twin);
  CHECK(narrow(b, 0, 0, 1).to_vector() != narrow(b, 0, 1, 1).to_vector());
}

TEST_CASE("augment: GGDR features move with the images, without color") {
  RandomGenerator rng(8);
  AugmentPipe pipe(AugmentConfig::from_json({{"xflip", 1}, {"brightness", 1}}), rng);
  pipe.p = 1;
  pipe.debug_percentile = 0.75;
  Tensor x = test::random_tensor({2, 3, 8, 8}, 9);
  Tensor ramp = reshape(repeat(Tensor::arange(8, DType::Float64), {2 * 3 * 8}), {2, 3, 8, 8});
  Tensor constant = mul(Tensor::ones({2, 2, 4, 4}, DType::Float64), 0.5);
  std::map<int, Tensor> features = {{8, ramp}, {4, constant}, {256, test::random_tensor({2, 2, 3, 3}, 11)}};
  Tensor f256 = features[256];
  pipe.forward(x, &features);
  // The bilinear up / sym6 down pair of the feature path is not exact, but a mirrored ramp stays
  // far closer to the mirrored input than to the input.
  double to_flipped = sum(square(sub(features[8], flip(ramp, {3})))).item();
  double to_input = sum(square(sub(features[8], ramp))).item();
  CHECK(to_flipped < 0.05 * to_input);
  CHECK_CLOSE(features[4], constant, 1e-6, 0);  // brightness acts on the images only
  CHECK(features[256].same(f256));              // above 128: left as is, as in GGDR
}

TEST_CASE("augment: gradcheck and gradgradcheck through a geometric and a color preset") {
  for (const char* preset : {"bg", "color"}) {
    CAPTURE(preset);
    RandomGenerator rng(12);
    AugmentPipe pipe(AugmentConfig::preset(preset), rng);
    pipe.p = 1;
    GeneratorState s = rng.state();
    Tensor x = set_requires_grad(test::random_tensor({1, 3, 5, 5}, 13));
    // The same draws at every evaluation; square() makes the second derivative non-trivial.
    TensorFunction fn = [&](const std::vector<Tensor>& in) {
      rng.set_state(s);
      return std::vector<Tensor>{pipe.forward(square(in[0]))};
    };
    CHECK_GRADCHECK(gradcheck(preset, fn, {x}));
    CHECK_GRADCHECK(gradgradcheck(preset, fn, {x}));
  }
}

TEST_CASE("augment: gradcheck through the image filter, cutout and a feature map") {
  RandomGenerator rng(14);
  AugmentPipe filter(AugmentConfig::from_json({{"imgfilter", 1}, {"cutout", 1}}), rng);
  filter.p = 1;
  GeneratorState s = rng.state();
  Tensor x = set_requires_grad(test::random_tensor({1, 1, 22, 22}, 15));
  TensorFunction fn = [&](const std::vector<Tensor>& in) {
    rng.set_state(s);
    return std::vector<Tensor>{narrow(narrow(filter.forward(in[0]), 2, 4, 3), 3, 6, 3)};
  };
  CHECK_GRADCHECK(gradcheck("imgfilter", fn, {x}));

  AugmentPipe geom(AugmentConfig::preset("geom"), rng);
  geom.p = 1;
  Tensor f = set_requires_grad(test::random_tensor({1, 2, 4, 4}, 16));
  Tensor img = test::random_tensor({1, 3, 8, 8}, 17);
  TensorFunction feature_fn = [&](const std::vector<Tensor>& in) {
    rng.set_state(s);
    std::map<int, Tensor> features = {{4, square(in[0])}};
    geom.forward(img, &features);
    return std::vector<Tensor>{features.at(4)};
  };
  CHECK_GRADCHECK(gradcheck("feature warp", feature_fn, {f}));
  CHECK_GRADCHECK(gradgradcheck("feature warp", feature_fn, {f}));
}

TEST_CASE("augment: ADA controller on a scripted sequence of signs") {
  AdaController ada(0.6, 4, 500, 32);
  const double step = 32.0 * 4 / (500 * 1000);
  CHECK(ada.update(0.1) == 0.1);  // nothing accumulated: unchanged
  ada.accumulate(std::vector<double>{1, 1, 1, 1});
  ada.accumulate(Tensor::from_vector({1, -1}, {2}));
  double p = ada.update(0);  // mean 4/6 > 0.6: more augmentation
  CHECK(ada.last_mean() == doctest::Approx(4.0 / 6));
  CHECK(p == doctest::Approx(step));
  ada.accumulate(std::vector<double>{1, 1, 1, -1, -1});  // mean 0.2 < 0.6
  p = ada.update(p);
  CHECK(p == 0.0);
  ada.accumulate(std::vector<double>{-1, -1});
  CHECK(ada.update(p) == 0.0);  // clamped below at 0
  ada.accumulate(std::vector<double>{1, 1, 1, 1, -1});  // exactly on target: no change
  CHECK(ada.update(0.5) == 0.5);
  // The state carries a partly filled interval across a resume.
  ada.accumulate(std::vector<double>{1, -1, -1});
  AdaController resumed(0.6, 4, 500, 32);
  resumed.set_state(ada.state());
  resumed.accumulate(std::vector<double>{1, 1, 1, 1, 1});  // 6 of 8 positive: 0.5 mean
  CHECK(resumed.update(0.25) == doctest::Approx(0.25 - step));
  CHECK(resumed.last_mean() == doctest::Approx(0.5));
}

TEST_CASE("reflect_pad: values, gradcheck and gradgradcheck") {
  Tensor row = Tensor::from_vector({1, 2, 3, 4}, {1, 1, 1, 4}, DType::Float64);
  CHECK(reflect_pad(row, Pad4(2, 3, 0, 0)).to_vector() == std::vector<double>{3, 2, 1, 2, 3, 4, 3, 2, 1});
  Tensor col = Tensor::from_vector({1, 2, 3}, {1, 1, 3, 1}, DType::Float64);
  CHECK(reflect_pad(col, Pad4(0, 0, 1, 2)).to_vector() == std::vector<double>{2, 1, 2, 3, 2, 1});
  Tensor x = set_requires_grad(transpose(test::random_tensor({2, 3, 5, 4}, 18), 2, 3));  // non-contiguous
  TensorFunction fn = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{reflect_pad(square(in[0]), Pad4(3, 1, 2, 3))};
  };
  CHECK_GRADCHECK(gradcheck("reflect_pad", fn, {x}));
  CHECK_GRADCHECK(gradgradcheck("reflect_pad", fn, {x}));
}

TEST_CASE("augment: images that need no gradient take the fused warp and get what the composition gives") {
  for (DType dtype : {DType::Float64, DType::Float32}) {
    CAPTURE(std::string(dtype_name(dtype)));
    Tensor x = test::random_tensor({3, 3, 16, 16}, 23, dtype);
    RandomGenerator rng_fused(24), rng_composed(24);
    AugmentPipe fused(AugmentConfig::preset("bgc"), rng_fused), composed(AugmentConfig::preset("bgc"), rng_composed);
    fused.p = composed.p = 1;
    Tensor y_fused = fused.forward(x);
    Tensor y_composed = composed.forward(set_requires_grad(raw::clone(x)));
    double tol = dtype == DType::Float64 ? 1e-12 : 1e-5;
    CHECK_CLOSE(y_fused, y_composed.detach(), tol, tol);
  }
}

TEST_CASE("augment: CUDA matches CPU, forward and backward, with random draws") {
  SG_REQUIRE_CUDA();
  for (const char* preset : {"bgc", "bgcfnc"}) {
    CAPTURE(preset);
    Tensor x = test::random_tensor({3, 3, 24, 24}, 19, DType::Float32);
    Tensor dy = test::random_tensor({3, 3, 24, 24}, 20, DType::Float32);
    Tensor f = test::random_tensor({3, 4, 8, 8}, 21, DType::Float32);
    RandomGenerator rng_cpu(22), rng_cuda(22);  // Philox: the same draws on both devices
    AugmentPipe cpu(AugmentConfig::preset(preset), rng_cpu), cuda(AugmentConfig::preset(preset), rng_cuda);
    cpu.p = cuda.p = 0.8;
    Tensor xc = set_requires_grad(raw::clone(x)), xg = set_requires_grad(raw::to(x, DType::Float32, Device::CUDA));
    std::map<int, Tensor> fc = {{8, f}}, fg = {{8, to_device(f, Device::CUDA)}};
    Tensor yc = cpu.forward(xc, &fc), yg = cuda.forward(xg, &fg);
    std::vector<double> v = yc.to_vector();
    bool finite = true, nonzero = false;
    for (double e : v) finite = finite && std::isfinite(e), nonzero = nonzero || e != 0;
    CHECK((finite && nonzero));
    // float32 on both devices; cuDNN and cuBLAS sum in other orders than the CPU loops.
    CHECK_CLOSE(yg, yc, 1e-4, 1e-4);
    CHECK_CLOSE(fg.at(8), fc.at(8), 1e-4, 1e-4);
    CHECK_CLOSE(grad({sum(mul(yg, to_device(dy, Device::CUDA)))}, {xg})[0], grad({sum(mul(yc, dy))}, {xc})[0], 1e-4, 1e-4);
    // Without a gradient both devices take the fused warp.
    RandomGenerator again_cpu(25), again_cuda(25);
    AugmentPipe fused_cpu(AugmentConfig::preset(preset), again_cpu), fused_cuda(AugmentConfig::preset(preset), again_cuda);
    fused_cpu.p = fused_cuda.p = 0.8;
    CHECK_CLOSE(fused_cuda.forward(raw::to(x, DType::Float32, Device::CUDA)), fused_cpu.forward(x), 1e-4, 1e-4);
  }
}

TEST_CASE("augment: bad arguments") {
  RandomGenerator rng(23);
  CHECK_THROWS_WITH_ALL(AugmentConfig::preset("bgcx"), "AugmentConfig", "unknown preset", "bgcx");
  CHECK_THROWS_WITH_ALL(AugmentConfig::from_json({{"xflop", 1}}), "AugmentConfig", "unknown", "xflop");
  CHECK_THROWS_WITH_ALL(AugmentConfig::from_json({{"xflip", "yes"}}), "AugmentConfig", "xflip", "number");
  CHECK_THROWS_WITH_ALL(AugmentConfig::from_json({{"imgfilter_bands", {1, 1}}}), "AugmentConfig", "imgfilter_bands", "4");
  AugmentPipe color(only("brightness"), rng);
  CHECK_THROWS_WITH_ALL(color.forward(test::random_tensor({1, 2, 4, 4}, 24)), "AugmentPipe", "3 channels", "[1, 2, 4, 4]");
  CHECK_THROWS_WITH_ALL(color.forward(test::random_tensor({2, 3, 4}, 25)), "AugmentPipe", "[N, C, H, W]", "[2, 3, 4]");
  AugmentPipe filter(only("imgfilter"), rng);
  CHECK_THROWS_WITH_ALL(filter.forward(test::random_tensor({1, 3, 16, 16}, 26)), "AugmentPipe", "21x21", "[1, 3, 16, 16]");
  AugmentPipe geom(only("xflip"), rng);
  std::map<int, Tensor> features = {{4, test::random_tensor({3, 2, 4, 4}, 27)}};
  CHECK_THROWS_WITH_ALL(geom.forward(test::random_tensor({2, 3, 8, 8}, 28), &features), "AugmentPipe", "feature map 4",
                        "[2, C, H, W]");
  CHECK_THROWS_WITH_ALL(reflect_pad(test::random_tensor({1, 1, 3, 3}, 29), Pad4(3, 0, 0, 0)), "reflect_pad",
                        "[3, 0, 0, 0]", "[1, 1, 3, 3]");
  CHECK_THROWS_WITH_ALL(AdaController(0.6, 0, 500, 32), "AdaController", "positive");
}
