// upfirdn2d: official fixtures (forward and dx), setup_filter and the padding helpers, the CPU
// loops against a literal step-by-step reference, gradcheck/gradgradcheck over the parameter
// space, the filter's missing gradient, CUDA parity (tiled, separable and direct kernels vs the
// CPU loops, and tiled/separable vs direct) and argument errors.
#include <cmath>

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
  double tol = c.mode.device == Device::CPU ? 1e-9 : 1e-4;  // float64 loops; float32 kernels
  auto pad = p.at("padding").get<std::vector<int>>();
  Tensor x = set_requires_grad(c.input("x"));
  Tensor y = upfirdn2d(x, c.raw_tensor("f"), int2_param(p.at("up")), int2_param(p.at("down")),
                       Pad4(pad[0], pad[1], pad[2], pad[3]), p.at("flip_filter"), p.at("gain"));
  c.expect_close("y", y, tol);
  c.expect_close("dx", grad({sum(mul(y, c.input("dy")))}, {x})[0], tol);
}

SG_REGISTER_FIXTURE("ops_upfirdn2d", check_upfirdn2d_case);

// The op done literally, as the official docstring states it, in float64: zero-insert, pad or
// crop, convolve (valid positions), decimate, gain. A 1-D filter becomes its outer product.
Tensor literal_upfirdn2d(const Tensor& x_in, const Tensor& f_in, Int2 up, Int2 down, Pad4 pad, bool flip, double gain) {
  Tensor x = raw::contiguous(raw::to(x_in, DType::Float64, Device::CPU));
  std::vector<double> xs = x.to_vector(), fv = raw::to(f_in, DType::Float64, Device::CPU).to_vector();
  int fh = int(f_in.size(0)), fw = int(f_in.size(-1));
  std::vector<double> f2(size_t(fh) * fw);
  for (int i = 0; i < fh; ++i)
    for (int j = 0; j < fw; ++j) f2[i * fw + j] = f_in.dim() == 1 ? fv[i] * fv[j] : fv[i * fw + j];
  int N = int(x.size(0)), C = int(x.size(1)), H = int(x.size(2)), W = int(x.size(3));
  int uh = H * up.y, uw = W * up.x;  // upsampled
  int ph = uh + pad.y0 + pad.y1, pw = uw + pad.x0 + pad.x1;  // padded (or cropped)
  int oh = (ph - fh + down.y) / down.y, ow = (pw - fw + down.x) / down.x;
  std::vector<double> out;
  for (int plane = 0; plane < N * C; ++plane) {
    std::vector<double> padded(size_t(ph) * pw, 0.0);
    for (int py = 0; py < ph; ++py)
      for (int px = 0; px < pw; ++px) {
        int uy = py - pad.y0, ux = px - pad.x0;
        if (uy >= 0 && uy < uh && ux >= 0 && ux < uw && uy % up.y == 0 && ux % up.x == 0)
          padded[size_t(py) * pw + px] = xs[(size_t(plane) * H + uy / up.y) * W + ux / up.x];
      }
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        double acc = 0;
        for (int i = 0; i < fh; ++i)
          for (int j = 0; j < fw; ++j) {
            double tap = flip ? f2[i * fw + j] : f2[(fh - 1 - i) * fw + (fw - 1 - j)];
            acc += padded[size_t(oy * down.y + i) * pw + ox * down.x + j] * tap;
          }
        out.push_back(acc * gain);
      }
  }
  return Tensor::from_vector(out, {N, C, oh, ow}, DType::Float64);
}

struct Config {
  Int2 up, down;
  Pad4 pad;
  bool flip;
  double gain;
  int fh, fw;  // fh = 0: a separable 1-D filter of fw taps
};

// Covers up/down 1, 2, 4, anisotropic factors, negative padding, flip, gain, 2-D filters of
// every tap bucket of the tiled kernel and 1-D filters of every bucket of the separable one.
std::vector<Config> sweep() {
  return {
      {1, 1, Pad4(1, 1, 1, 1), false, 1.0, 3, 3},         {2, 1, Pad4(2, 1, 2, 1), false, 4.0, 4, 4},
      {1, 2, Pad4(1, 1, 1, 1), true, 1.0, 4, 4},          {4, 1, Pad4(2, 1, 1, 2), false, 2.0, 3, 3},
      {1, 4, Pad4(0, 1, 2, 0), false, 1.0, 3, 3},         {1, 1, Pad4(1, -1, -1, 2), true, 1.5, 3, 4},
      {Int2(2, 1), Int2(1, 2), Pad4(2, 1, 1, 1), false, 2.0, 4, 4},
      {Int2(1, 2), Int2(2, 1), Pad4(1, 2, -1, 2), true, 1.0, 3, 4},
      {2, 2, Pad4(1, 2, 2, 1), false, 1.0, 4, 4},         {1, 1, Pad4(3, 4, 4, 3), false, 1.0, 8, 8},
      {1, 2, Pad4(3, 3, 3, 3), true, 1.0, 6, 7},          {1, 1, Pad4(0, 0, 0, 0), false, 1.0, 1, 1},
      {2, 1, Pad4(4, 3, 4, 3), false, 4.0, 0, 8},         {1, 2, Pad4(3, 3, 3, 3), true, 1.0, 0, 8},
      {2, 1, Pad4(6, 5, 6, 5), false, 4.0, 0, 12},        {1, 2, Pad4(5, 5, -1, 10), true, 2.0, 0, 12},
      {Int2(2, 1), Int2(1, 2), Pad4(2, 1, 1, 2), false, 1.0, 0, 3},
  };
}

Tensor filter_for(const Config& c, uint64_t seed) {
  return c.fh == 0 ? test::random_tensor({c.fw}, seed, DType::Float32, Device::CPU, 0.1, 1)
                   : test::random_tensor({c.fh, c.fw}, seed, DType::Float32, Device::CPU, 0.1, 1);
}

std::string describe(const Config& c) {
  return "up " + to_string(c.up) + " down " + to_string(c.down) + " pad " + to_string(c.pad) +
         (c.flip ? " flip" : "") + " gain " + std::to_string(c.gain) + " filter " +
         (c.fh == 0 ? std::to_string(c.fw) + " taps separable" : std::to_string(c.fh) + "x" + std::to_string(c.fw));
}

// Asserts that t is finite and not all zero, so that a comparison cannot pass by accident.
void check_meaningful(const Tensor& t) {
  double max_abs = 0;
  bool finite = true;
  for (double v : t.to_vector()) {
    finite = finite && std::isfinite(v);
    max_abs = std::max(max_abs, std::abs(v));
  }
  CHECK(finite);
  CHECK(max_abs > 0);
}

}  // namespace

TEST_CASE("upfirdn2d: setup_filter follows the official rules") {
  Tensor f = setup_filter(std::vector<double>{1, 3, 3, 1});
  CHECK(f.shape() == Shape{4, 4});  // short 1-D filters become their outer product
  CHECK(f.dtype() == DType::Float32);
  CHECK(f.to_vector()[0] == doctest::Approx(1.0 / 64));
  CHECK(f.to_vector()[5] == doctest::Approx(9.0 / 64));
  std::vector<double> twelve(12, 1.0);
  twelve[0] = 2;
  Tensor g = setup_filter(twelve, true, true, 4.0);
  CHECK(g.shape() == Shape{12});  // >= 8 taps stay separable
  CHECK(g.to_vector()[11] == doctest::Approx(2.0 / 13 * 2));  // flipped, gain^(1/2)
  CHECK(setup_filter(twelve, true, false, 1, 0).shape() == Shape{12, 12});  // forced 2-D
  Tensor sep = setup_filter(std::vector<double>{1, 2, 1}, false, false, 9.0, 1);  // forced separable
  CHECK(sep.shape() == Shape{3});
  CHECK(sep.to_vector()[1] == doctest::Approx(6.0));  // not normalised, gain^(1/2)
  Tensor two_d = setup_filter(test::random_tensor({2, 3}, 2, DType::Float64, Device::CPU, 0.5, 1), false, true, 2.0);
  std::vector<double> raw = test::random_tensor({2, 3}, 2, DType::Float64, Device::CPU, 0.5, 1).to_vector();
  CHECK(two_d.shape() == Shape{2, 3});
  CHECK(two_d.to_vector()[0] == doctest::Approx(raw[5] * 2.0));  // both axes flipped, gain^(2/2)
  Tensor identity = setup_filter(Tensor());
  CHECK(identity.shape() == Shape{1, 1});  // official f=None
  CHECK(identity.item() == 1.0);
  CHECK_THROWS_WITH_ALL(setup_filter(test::random_tensor({2, 2, 2}, 1)), "setup_filter", "[2, 2, 2]");
  CHECK_THROWS_WITH_ALL(setup_filter(test::random_tensor({2, 2}, 1), true, false, 1, 1), "setup_filter",
                        "2-D filter cannot be made separable");
}

TEST_CASE("upfirdn2d: helpers pad as official and keep the size and the mean") {
  Tensor f = setup_filter(std::vector<double>{1, 3, 3, 1});
  Tensor x = Tensor::ones({1, 2, 6, 6}, DType::Float64);
  Tensor up = upsample2d(x, f);
  CHECK(up.shape() == Shape{1, 2, 12, 12});
  CHECK(up.to_vector()[6 * 12 + 6] == doctest::Approx(1.0));  // interior: DC gain 1
  Tensor down = downsample2d(x, f);
  CHECK(down.shape() == Shape{1, 2, 3, 3});
  CHECK(down.to_vector()[4] == doctest::Approx(1.0));
  CHECK(filter2d(x, f).shape() == x.shape());
  // The helpers are upfirdn2d with the documented paddings (4 taps: up 2 -> [2, 1, 2, 1], down 2
  // -> [1, 1, 1, 1]; 12 taps: filter2d -> [6, 5, 6, 5]); anisotropic factors pad per axis.
  Tensor xr = test::random_tensor({2, 3, 7, 6}, 3);
  CHECK_CLOSE(upsample2d(xr, f), upfirdn2d(xr, f, 2, 1, Pad4(2, 1, 2, 1), false, 4), 0, 0);
  CHECK_CLOSE(downsample2d(xr, f, 2, 1), upfirdn2d(xr, f, 1, 2, Pad4(2, 2, 2, 2)), 0, 0);
  Tensor sym = setup_filter(std::vector<double>{1, 2, 3, 4, 4, 3, 2, 1, 0.5, 0.5, 0.25, 0.25});
  CHECK_CLOSE(filter2d(xr, sym, 0, true, 2), upfirdn2d(xr, sym, 1, 1, Pad4(6, 5, 6, 5), true, 2), 0, 0);
  CHECK(upsample2d(xr, f, Int2(2, 1)).shape() == Shape{2, 3, 7, 12});
  CHECK(downsample2d(xr, f, Int2(1, 2)).shape() == Shape{2, 3, 3, 6});
  CHECK(filter2d(xr, Tensor()).shape() == xr.shape());
  CHECK_CLOSE(filter2d(xr, Tensor()), xr, 0, 0);  // undefined filter = identity
}

TEST_CASE("upfirdn2d: CPU loops match the literal zero-insert, pad, convolve, decimate") {
  int k = 0;
  for (const Config& cfg : sweep()) {
    CAPTURE(describe(cfg));
    Tensor f = filter_for(cfg, 100 + k);
    Tensor x = test::random_tensor({2, 2, 9, 7}, 200 + k++);
    Tensor y = upfirdn2d(x, f, cfg.up, cfg.down, cfg.pad, cfg.flip, cfg.gain);
    check_meaningful(y);
    // The gain is folded into the float32 filter first (as official): a 6e-8 relative rounding
    // of each tap, on sums of up to 144 terms of magnitude < 1.
    CHECK_CLOSE(y, literal_upfirdn2d(x, f, cfg.up, cfg.down, cfg.pad, cfg.flip, cfg.gain), 1e-5, 1e-6);
  }
}

TEST_CASE("upfirdn2d: gradcheck and gradgradcheck over the parameter space") {
  int k = 0;
  for (const Config& cfg : sweep()) {
    CAPTURE(describe(cfg));
    Tensor f = filter_for(cfg, 10 + k);
    Tensor x = set_requires_grad(test::random_tensor({1, 2, 5, 4}, 20 + k++));
    TensorFunction fn = [&](const std::vector<Tensor>& in) {
      return std::vector<Tensor>{upfirdn2d(in[0], f, cfg.up, cfg.down, cfg.pad, cfg.flip, cfg.gain)};
    };
    CHECK_GRADCHECK(gradcheck("upfirdn2d", fn, {x}));
    CHECK_GRADCHECK(gradgradcheck("upfirdn2d", fn, {x}));
  }
}

TEST_CASE("upfirdn2d: the filter gets no gradient") {
  Tensor f = set_requires_grad(raw::to(setup_filter(std::vector<double>{1, 3, 3, 1}), DType::Float64, Device::CPU));
  Tensor x = set_requires_grad(test::random_tensor({1, 2, 6, 5}, 8));
  Tensor y = upsample2d(x, f);
  Tensor dx = grad({sum(y)}, {x})[0];  // the gradient of x alone is fine
  CHECK(dx.shape() == x.shape());
  CHECK_THROWS_WITH_ALL(grad({sum(upsample2d(x, f))}, {f}), "upfirdn2d", "filter gets no gradient");
}

TEST_CASE("upfirdn2d: non-contiguous input, channel slices and batch 1 give the contiguous result") {
  Tensor f = setup_filter(std::vector<double>{1, 3, 3, 1});
  Tensor sep = setup_filter(std::vector<double>{1, 2, 3, 4, 4, 3, 2, 1});
  Tensor x = test::random_tensor({2, 3, 7, 5}, 3);
  Tensor xt = transpose(contiguous(transpose(x, 2, 3)), 2, 3);  // same values, other strides
  CHECK_FALSE(xt.is_contiguous());
  CHECK_CLOSE(upsample2d(xt, f), upsample2d(x, f), 0, 0);
  CHECK_CLOSE(downsample2d(xt, sep), downsample2d(x, sep), 0, 0);
  CHECK_CLOSE(upsample2d(narrow(x, 0, 1, 1), f), narrow(upsample2d(x, f), 0, 1, 1), 0, 0);
  CHECK_CLOSE(filter2d(narrow(x, 1, 1, 2), f), narrow(filter2d(x, f), 1, 1, 2), 0, 0);
}

TEST_CASE("upfirdn2d: CUDA matches CPU in float32, float16 and bfloat16, forward and backward") {
  SG_REQUIRE_CUDA();
  int k = 0;
  for (const Config& cfg : sweep()) {
    CAPTURE(describe(cfg));
    Tensor f = filter_for(cfg, 30 + k);
    // Odd sizes, more than one tile per axis, batch 1, many planes.
    for (Shape shape : {Shape{2, 3, 37, 45}, Shape{1, 1, 5, 4}, Shape{3, 70, 8, 66}, Shape{1, 2, 131, 70}}) {
      CAPTURE(shape_str(shape));
      Tensor x = test::random_tensor(shape, 40 + k++, DType::Float32);
      Tensor ref = upfirdn2d(x, f, cfg.up, cfg.down, cfg.pad, cfg.flip, cfg.gain);
      check_meaningful(ref);
      Tensor xc = set_requires_grad(raw::to(x, DType::Float32, Device::CUDA));
      Tensor y = upfirdn2d(xc, f, cfg.up, cfg.down, cfg.pad, cfg.flip, cfg.gain);
      CHECK_CLOSE(y, ref, 1e-5, 1e-5);  // float32 sums of up to 144 products in another order
      Tensor dy = test::random_tensor(ref.shape(), 50 + k, DType::Float32);
      Tensor xcpu = set_requires_grad(raw::clone(x));
      Tensor dx_ref = grad({sum(mul(upfirdn2d(xcpu, f, cfg.up, cfg.down, cfg.pad, cfg.flip, cfg.gain), dy))}, {xcpu})[0];
      Tensor dx = grad({sum(mul(y, raw::to(dy, DType::Float32, Device::CUDA)))}, {xc})[0];
      check_meaningful(dx_ref);
      CHECK_CLOSE(dx, dx_ref, 1e-5, 1e-5);
      for (DType half : {DType::Float16, DType::BFloat16}) {
        Tensor xh = cast(raw::to(x, DType::Float32, Device::CUDA), half);
        Tensor ref_h = upfirdn2d(cast(xh, DType::Float32), f, cfg.up, cfg.down, cfg.pad, cfg.flip, cfg.gain);
        Tensor yh = upfirdn2d(xh, f, cfg.up, cfg.down, cfg.pad, cfg.flip, cfg.gain);
        CHECK(yh.dtype() == half);
        // Same rounded input; float accumulation; only the output's rounding (2^-8 or 2^-11
        // relative, times the output's magnitude of a few units) differs.
        CHECK_CLOSE(cast(yh, DType::Float32), ref_h, 2e-2, half == DType::BFloat16 ? 8e-3 : 1e-3);
      }
    }
  }
}

TEST_CASE("upfirdn2d: CUDA tiled and separable kernels match the direct kernel") {
  SG_REQUIRE_CUDA();
  int k = 0;
  for (const Config& cfg : sweep()) {
    CAPTURE(describe(cfg));
    Tensor f = raw::to(filter_for(cfg, 60 + k), DType::Float32, Device::CUDA);
    for (Shape shape : {Shape{2, 3, 67, 33}, Shape{1, 1, 3, 4}}) {
      Tensor x = test::random_tensor(shape, 70 + k++, DType::Float32, Device::CUDA);
      UpFirDnParams p = upfirdn2d_params(x, f, cfg.up, cfg.down, cfg.pad, cfg.flip);
      Tensor fast = Tensor::empty({p.N, p.C, p.out_h, p.out_w}, DType::Float32, Device::CUDA);
      Tensor oracle = Tensor::empty(fast.shape(), DType::Float32, Device::CUDA);
      UpFirDnKernel ran = upfirdn2d_cuda(fast, x, f, p);
      CHECK(upfirdn2d_cuda(oracle, x, f, p, true) == UpFirDnKernel::Direct);
      // Everything in the sweep but down 4 (S = 4) has a fast kernel.
      if (cfg.down.y != 4) CHECK(ran == (cfg.fh == 0 ? UpFirDnKernel::Separable : UpFirDnKernel::Tiled));
      check_meaningful(oracle);
      CHECK_CLOSE(fast, oracle, 1e-5, 1e-5);  // float32, another summation order
    }
  }
}

TEST_CASE("upfirdn2d: CUDA non-contiguous input, float64, and the direct fallback") {
  SG_REQUIRE_CUDA();
  Tensor f = setup_filter(std::vector<double>{1, 3, 3, 1});
  Tensor sep = setup_filter(std::vector<double>{1, 2, 3, 4, 4, 3, 2, 1, 1, 1, 2, 1});
  Tensor x = test::random_tensor({2, 5, 33, 41}, 80, DType::Float32);
  Tensor xc = raw::to(x, DType::Float32, Device::CUDA);
  Tensor xt = transpose(contiguous(transpose(xc, 2, 3)), 2, 3);  // column-major planes
  Tensor xs = narrow(xc, 1, 1, 3);                                // a channel slice
  CHECK_FALSE(xt.is_contiguous());
  CHECK_CLOSE(upsample2d(xt, f), upsample2d(x, f), 1e-5, 1e-5);  // float32 sums in another order
  CHECK_CLOSE(downsample2d(xt, sep), downsample2d(x, sep), 1e-5, 1e-5);
  CHECK_CLOSE(filter2d(xs, f), filter2d(narrow(x, 1, 1, 3), f), 1e-5, 1e-5);
  // 16-bit views: column-major planes, and a column slice that starts at an odd element (rows of
  // odd pitch and odd alignment), against contiguous copies; same kernel, same sums.
  for (DType half : {DType::Float16, DType::BFloat16}) {
    Tensor xh = cast(xc, half);
    Tensor xht = transpose(contiguous(transpose(xh, 2, 3)), 2, 3);
    Tensor xhs = narrow(xh, 3, 1, 38);
    CHECK_CLOSE(cast(upsample2d(xht, f), DType::Float32), cast(upsample2d(xh, f), DType::Float32), 0, 0);
    CHECK_CLOSE(cast(filter2d(xhs, f), DType::Float32), cast(filter2d(contiguous(xhs), f), DType::Float32), 0, 0);
    CHECK_CLOSE(cast(downsample2d(xhs, f), DType::Float32), cast(downsample2d(contiguous(xhs), f), DType::Float32), 0,
                0);
    CHECK_CLOSE(cast(upsample2d(xhs, sep), DType::Float32), cast(upsample2d(contiguous(xhs), sep), DType::Float32), 0,
                0);
  }
  // float64 on the GPU computes in float64.
  Tensor xd = test::random_tensor({2, 3, 19, 23}, 81);
  CHECK_CLOSE(upsample2d(raw::to(xd, DType::Float64, Device::CUDA), f), upsample2d(xd, f), 1e-12, 1e-12);
  CHECK_CLOSE(downsample2d(raw::to(xd, DType::Float64, Device::CUDA), sep), downsample2d(xd, sep), 1e-12, 1e-12);
  // Filters or factors beyond the tiled and separable kernels take the direct kernel.
  Tensor big = test::random_tensor({40, 40}, 60, DType::Float32, Device::CPU, 0, 1);
  Tensor xb = test::random_tensor({1, 2, 64, 64}, 61, DType::Float32);
  Tensor ref = upfirdn2d(xb, big, 4, 1, Pad4(20, 20, 20, 20));
  CHECK_CLOSE(upfirdn2d(raw::to(xb, DType::Float32, Device::CUDA), big, 4, 1, Pad4(20, 20, 20, 20)), ref, 1e-4, 1e-5);
  Tensor long_taps = test::random_tensor({40}, 62, DType::Float32, Device::CPU, 0, 1);
  ref = upfirdn2d(xb, long_taps, 1, 3, Pad4(20, 19, 20, 19));
  CHECK_CLOSE(upfirdn2d(raw::to(xb, DType::Float32, Device::CUDA), long_taps, 1, 3, Pad4(20, 19, 20, 19)), ref, 1e-4,
              1e-5);  // float32 sums of 1600 products
}

TEST_CASE("upfirdn2d: bad arguments") {
  Tensor x = test::random_tensor({1, 2, 5, 5}, 5);
  Tensor f = setup_filter(std::vector<double>{1, 3, 3, 1});
  CHECK_THROWS_WITH_ALL(upfirdn2d(test::random_tensor({2, 5, 5}, 6), f), "upfirdn2d", "[N, C, H, W]", "[2, 5, 5]");
  CHECK_THROWS_WITH_ALL(upfirdn2d(x, test::random_tensor({2, 2, 2}, 7)), "upfirdn2d", "1-D or 2-D", "[2, 2, 2]");
  CHECK_THROWS_WITH_ALL(upfirdn2d(x, f, 0), "upfirdn2d", "up and down >= 1", "[0, 0]");
  CHECK_THROWS_WITH_ALL(upfirdn2d(x, f, 1, Int2(1, 0)), "upfirdn2d", "up and down >= 1", "[1, 0]");
  CHECK_THROWS_WITH_ALL(upfirdn2d(x, f, 1, 1, Pad4(-4, 0, 0, 0)), "upfirdn2d", "output would be empty",
                        "padding [-4, 0, 0, 0]");
  CHECK_THROWS_WITH_ALL(upfirdn2d(x, f, 1, 1, Pad4(0, 0, -9, 0)), "upfirdn2d", "output would be empty");
  CHECK_THROWS_WITH_ALL(upfirdn2d(x, Tensor::ones({0}, DType::Float32)), "upfirdn2d", "filter is empty");
  CHECK_THROWS_WITH_ALL(upfirdn2d(Tensor::ones({1, 1, 4, 4}, DType::Int64), f), "upfirdn2d", "floating x", "int64");
}
