// conv2d and conv_transpose2d: values against direct loops, gradcheck/gradgradcheck over strides,
// padding, groups, bias and output padding, the R1 pattern against finite differences, the
// no-weight-gradients scope, CUDA parity (float32, float16, float64, double backward) and errors.
#include <cmath>

#include "autograd/gradcheck.h"
#include "ops/conv2d/conv2d.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

struct Geometry {
  int k;  // square kernel size
  Int2 stride, pad;
  int groups;
};
// 3x3 and 1x1 kernels, stride 1 and 2, padding 0 and 1, groups 1 and 2, and axes that differ.
const Geometry kGeometries[] = {{3, 1, 1, 1}, {3, 2, 0, 1}, {1, 1, 0, 2}, {3, 2, 1, 2}, {1, 2, 0, 1},
                                {3, Int2(2, 1), Int2(0, 1), 1}};

// Output padding that lets a transposed convolution reach every size its stride allows.
Int2 max_output_padding(const Geometry& g) { return Int2(g.stride.x - 1, g.stride.y - 1); }

// Direct loop over every output pixel and tap: the oracle for the im2col path.
Tensor direct_conv(const Tensor& x, const Tensor& w, const Tensor& b, Int2 stride, Int2 pad, int groups) {
  int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), K = w.size(0), R = w.size(2), S = w.size(3);
  int64_t Ho = (H + 2 * pad.y - R) / stride.y + 1, Wo = (W + 2 * pad.x - S) / stride.x + 1;
  int64_t cg = C / groups, kg = K / groups;
  std::vector<double> xv = x.to_vector(), wv = w.to_vector(), out(N * K * Ho * Wo, 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t oy = 0; oy < Ho; ++oy)
        for (int64_t ox = 0; ox < Wo; ++ox) {
          double acc = b.defined() ? b.to_vector()[k] : 0.0;
          int64_t g = k / kg;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t r = 0; r < R; ++r)
              for (int64_t q = 0; q < S; ++q) {
                int64_t iy = oy * stride.y - pad.y + r, ix = ox * stride.x - pad.x + q;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                acc += xv[((n * C + g * cg + c) * H + iy) * W + ix] * wv[((k * cg + c) * R + r) * S + q];
              }
          out[((n * K + k) * Ho + oy) * Wo + ox] = acc;
        }
  return Tensor::from_vector(out, {N, K, Ho, Wo}, DType::Float64);
}

// Direct scatter of every input pixel through the kernel: the oracle for the transposed path
// (w [C, K/groups, R, S]).
Tensor direct_conv_transpose(const Tensor& x, const Tensor& w, const Tensor& b, Int2 stride, Int2 pad,
                             Int2 output_padding, int groups) {
  int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), kg = w.size(1), R = w.size(2), S = w.size(3);
  int64_t K = kg * groups, cg = C / groups;
  int64_t Ho = (H - 1) * stride.y - 2 * pad.y + R + output_padding.y;
  int64_t Wo = (W - 1) * stride.x - 2 * pad.x + S + output_padding.x;
  std::vector<double> xv = x.to_vector(), wv = w.to_vector(), out(N * K * Ho * Wo, 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t iy = 0; iy < H; ++iy)
        for (int64_t ix = 0; ix < W; ++ix)
          for (int64_t k = 0; k < kg; ++k)
            for (int64_t r = 0; r < R; ++r)
              for (int64_t q = 0; q < S; ++q) {
                int64_t oy = iy * stride.y - pad.y + r, ox = ix * stride.x - pad.x + q;
                if (oy < 0 || oy >= Ho || ox < 0 || ox >= Wo) continue;
                int64_t ko = c / cg * kg + k;
                out[((n * K + ko) * Ho + oy) * Wo + ox] +=
                    xv[((n * C + c) * H + iy) * W + ix] * wv[((c * kg + k) * R + r) * S + q];
              }
  if (b.defined())
    for (int64_t i = 0; i < int64_t(out.size()); ++i) out[i] += b.to_vector()[(i / (Ho * Wo)) % K];
  return Tensor::from_vector(out, {N, K, Ho, Wo}, DType::Float64);
}

// Comparisons must not pass on an all-zero or non-finite result.
void check_meaningful(const Tensor& t) {
  std::vector<double> v = raw::to(t, DType::Float64, Device::CPU).to_vector();
  bool finite = true, nonzero = false;
  for (double e : v) {
    finite = finite && std::isfinite(e);
    nonzero = nonzero || e != 0;
  }
  CHECK_MESSAGE(finite, "non-finite values in ", t.describe());
  CHECK_MESSAGE(nonzero, "all zeros in ", t.describe());
}

// The R1 pattern: |d sum(tanh(conv(x, w) + b)) / dx|^2, the inner gradient taken with weight
// gradients off and create_graph on, so the penalty stays differentiable in w and b.
Tensor r1_penalty(const Tensor& x, const Tensor& w, const Tensor& b, bool create_graph) {
  EnableGradGuard enable(true);
  Tensor xi = x.detach();
  set_requires_grad(xi);
  NoWeightGradientsGuard guard;
  GradOptions options;
  options.create_graph = create_graph;
  Tensor g = grad({sum(tanh(conv2d(xi, w, b, 1, 1)))}, {xi}, {}, options)[0];
  return sum(square(g));
}

}  // namespace

TEST_CASE("conv2d: matches a direct loop over strides, padding, groups and bias") {
  for (const Geometry& g : kGeometries) {
    CAPTURE(g.k);
    CAPTURE(to_string(g.stride));
    CAPTURE(to_string(g.pad));
    CAPTURE(g.groups);
    for (Shape xs : {Shape{2, 4, 7, 6}, Shape{1, 4, 5, 9}}) {
      Tensor x = test::random_tensor(xs, 1);
      Tensor w = test::random_tensor({6, 4 / g.groups, g.k, g.k}, 2), b = test::random_tensor({6}, 3);
      Tensor y = conv2d(x, w, b, g.stride, g.pad, g.groups);
      check_meaningful(y);
      // Float64 sums of a few dozen terms in another order: rounding only.
      CHECK_CLOSE(y, direct_conv(x, w, b, g.stride, g.pad, g.groups), 1e-12, 1e-12);
      CHECK_CLOSE(conv2d(x, w, Tensor(), g.stride, g.pad, g.groups),
                  direct_conv(x, w, Tensor(), g.stride, g.pad, g.groups), 1e-12, 1e-12);
    }
  }
}

TEST_CASE("conv_transpose2d: matches a direct scatter loop, with output padding") {
  for (const Geometry& g : kGeometries) {
    CAPTURE(g.k);
    CAPTURE(to_string(g.stride));
    CAPTURE(to_string(g.pad));
    CAPTURE(g.groups);
    for (Int2 op : {Int2(0), max_output_padding(g)}) {
      for (Shape xs : {Shape{2, 4, 5, 6}, Shape{1, 4, 3, 7}}) {
        Tensor x = test::random_tensor(xs, 4);
        Tensor w = test::random_tensor({4, 6 / g.groups, g.k, g.k}, 5), b = test::random_tensor({6}, 6);
        Tensor y = conv_transpose2d(x, w, b, g.stride, g.pad, op, g.groups);
        check_meaningful(y);
        // Float64 sums of a few dozen terms in another order: rounding only.
        CHECK_CLOSE(y, direct_conv_transpose(x, w, b, g.stride, g.pad, op, g.groups), 1e-12, 1e-12);
      }
    }
  }
}

TEST_CASE("conv2d and conv_transpose2d: non-contiguous inputs give the contiguous result") {
  Tensor x = transpose(test::random_tensor({2, 3, 6, 5}, 7), 2, 3);  // [2, 3, 5, 6] with swapped strides
  Tensor w = transpose(test::random_tensor({4, 3, 3, 3}, 8), 2, 3);
  CHECK_FALSE(x.is_contiguous());
  // The same arithmetic on the same values: only the memory layout differs.
  CHECK_CLOSE(conv2d(x, w, Tensor(), 2, 1), conv2d(contiguous(x), contiguous(w), Tensor(), 2, 1), 1e-15, 1e-15);
  Tensor wt = transpose(test::random_tensor({3, 2, 3, 3}, 9), 2, 3);
  CHECK_CLOSE(conv_transpose2d(x, wt, Tensor(), 2, 1, 1), conv_transpose2d(contiguous(x), contiguous(wt), Tensor(), 2, 1, 1),
              1e-15, 1e-15);
}

TEST_CASE("conv2d and conv_transpose2d: gradcheck and gradgradcheck") {
  for (const Geometry& g : kGeometries) {
    CAPTURE(g.k);
    CAPTURE(to_string(g.stride));
    CAPTURE(to_string(g.pad));
    CAPTURE(g.groups);
    Tensor x = set_requires_grad(test::random_tensor({2, 2 * g.groups, 5, 6}, 10));
    Tensor w = set_requires_grad(test::random_tensor({2 * g.groups, 2, g.k, g.k}, 11));
    Tensor b = set_requires_grad(test::random_tensor({2 * g.groups}, 12));
    TensorFunction conv = [&](const std::vector<Tensor>& in) {
      return std::vector<Tensor>{conv2d(in[0], in[1], in[2], g.stride, g.pad, g.groups)};
    };
    CHECK_GRADCHECK(gradcheck("conv2d", conv, {x, w, b}));
    CHECK_GRADCHECK(gradgradcheck("conv2d", conv, {x, w, b}));
    TensorFunction transposed = [&](const std::vector<Tensor>& in) {
      return std::vector<Tensor>{
          conv_transpose2d(in[0], in[1], in[2], g.stride, g.pad, max_output_padding(g), g.groups)};
    };
    CHECK_GRADCHECK(gradcheck("conv_transpose2d", transposed, {x, w, b}));
    CHECK_GRADCHECK(gradgradcheck("conv_transpose2d", transposed, {x, w, b}));
  }
}

TEST_CASE("conv2d: the R1 pattern gives the finite-difference weight gradient") {
  // The penalty reaches w and b only through the create_graph path of the inner gradient, which
  // itself runs with weight gradients off.
  Tensor x = test::random_tensor({2, 2, 4, 5}, 20);
  Tensor w = set_requires_grad(test::random_tensor({3, 2, 3, 3}, 21));
  Tensor b = set_requires_grad(test::random_tensor({3}, 22));
  backward(r1_penalty(x, w, b, true));
  Tensor dw = grad_of(w), db = grad_of(b);
  REQUIRE(dw.defined());
  REQUIRE(db.defined());
  check_meaningful(dw);
  check_meaningful(db);
  // Central differences of the penalty, one parameter at a time.
  auto numeric = [&](const Tensor& p) {
    std::vector<double> values = p.to_vector(), out(values.size());
    const double eps = 1e-6;
    for (size_t i = 0; i < values.size(); ++i) {
      auto eval = [&](double delta) {
        std::vector<double> shifted = values;
        shifted[i] += delta;
        Tensor moved = Tensor::from_vector(shifted, p.shape(), DType::Float64);
        return r1_penalty(x, p.same(w) ? moved : w.detach(), p.same(b) ? moved : b.detach(), false).to_vector()[0];
      };
      out[i] = (eval(eps) - eval(-eps)) / (2 * eps);
    }
    return Tensor::from_vector(out, p.shape(), DType::Float64);
  };
  // Central differences with eps 1e-6 in float64: truncation ~1e-12, cancellation ~1e-9.
  CHECK_CLOSE(dw, numeric(w), 1e-7, 1e-6);
  CHECK_CLOSE(db, numeric(b), 1e-7, 1e-6);
}

TEST_CASE("conv2d: the R1 penalty passes gradcheck and gradgradcheck (third order through convs)") {
  Tensor x = set_requires_grad(test::random_tensor({1, 2, 3, 4}, 23));
  Tensor w = set_requires_grad(test::random_tensor({2, 2, 3, 3}, 24));
  TensorFunction penalty = [](const std::vector<Tensor>& in) {
    // gradcheck's numerical pass runs without grad mode; the recorded passes need the graph.
    return std::vector<Tensor>{r1_penalty(in[0], in[1], Tensor(), grad_mode_enabled())};
  };
  // x enters only as a value (the inner gradient is taken at a detached copy), so check w.
  Tensor xc = x.detach();
  CHECK_GRADCHECK(gradcheck("r1 penalty", penalty, {xc, w}));
  CHECK_GRADCHECK(gradgradcheck("r1 penalty", penalty, {xc, w}));
}

TEST_CASE("conv2d: NoWeightGradientsGuard skips weight and bias gradients") {
  Tensor x = set_requires_grad(test::random_tensor({1, 2, 4, 4}, 30));
  Tensor w = set_requires_grad(test::random_tensor({2, 2, 3, 3}, 31));
  Tensor wt = set_requires_grad(test::random_tensor({2, 2, 3, 3}, 32));
  Tensor b = set_requires_grad(test::random_tensor({2}, 33));
  CHECK(weight_gradients_enabled());
  {
    NoWeightGradientsGuard guard;
    CHECK_FALSE(weight_gradients_enabled());
    {
      NoWeightGradientsGuard nested;
      CHECK_FALSE(weight_gradients_enabled());
    }
    CHECK_FALSE(weight_gradients_enabled());
    backward(sum(conv_transpose2d(conv2d(x, w, b, 1, 1), wt, b, 2, 1, 1)));
    CHECK(grad_of(x).defined());
    CHECK_FALSE(grad_of(w).defined());
    CHECK_FALSE(grad_of(wt).defined());
    CHECK_FALSE(grad_of(b).defined());
  }
  CHECK(weight_gradients_enabled());
  Tensor dx = grad_of(x);
  zero_grad(x);
  backward(sum(conv_transpose2d(conv2d(x, w, b, 1, 1), wt, b, 2, 1, 1)));
  // The same input gradient either way; the weights get theirs once the guard is gone.
  CHECK_CLOSE(grad_of(x), dx, 0, 0);
  CHECK(grad_of(w).defined());
  CHECK(grad_of(wt).defined());
  CHECK(grad_of(b).defined());
}

TEST_CASE("conv2d: CUDA matches CPU in float32, float16 and float64") {
  SG_REQUIRE_CUDA();
  for (const Geometry& g : kGeometries) {
    CAPTURE(g.k);
    CAPTURE(to_string(g.stride));
    CAPTURE(to_string(g.pad));
    CAPTURE(g.groups);
    for (Shape xs : {Shape{3, 6, 13, 11}, Shape{1, 6, 8, 8}}) {
      CAPTURE(shape_str(xs));
      // Integer-valued data keeps float32 sums exact, whatever the summation order.
      Tensor x = test::random_integers(xs, 40, -3, 3), w = test::random_integers({4, 6 / g.groups, g.k, g.k}, 41, -2, 2);
      Tensor b = test::random_integers({4}, 42, -2, 2);
      Tensor dy = test::random_integers(conv2d(x, w, b, g.stride, g.pad, g.groups).shape(), 43, -2, 2);
      Tensor wt = test::random_integers({6, 4 / g.groups, g.k, g.k}, 44, -2, 2);
      Tensor xt = test::random_integers({xs[0], 6, 5, 4}, 45, -3, 3);
      Tensor yt_shape = conv_transpose2d(xt, wt, b, g.stride, g.pad, max_output_padding(g), g.groups);
      Tensor dyt = test::random_integers(yt_shape.shape(), 46, -2, 2);
      auto run = [&](Device d, DType t) {
        auto on = [&](const Tensor& v) { return set_requires_grad(raw::to(v, t, d)); };
        Tensor xd = on(x), wd = on(w), bd = on(b), xtd = on(xt), wtd = on(wt), btd = on(b);
        Tensor y = conv2d(xd, wd, bd, g.stride, g.pad, g.groups);
        std::vector<Tensor> gr = grad({sum(mul(y, raw::to(dy, t, d)))}, {xd, wd, bd});
        Tensor yt = conv_transpose2d(xtd, wtd, btd, g.stride, g.pad, max_output_padding(g), g.groups);
        std::vector<Tensor> grt = grad({sum(mul(yt, raw::to(dyt, t, d)))}, {xtd, wtd, btd});
        std::vector<Tensor> out{y, gr[0], gr[1], gr[2], yt, grt[0], grt[1], grt[2]};
        for (Tensor& o : out) o = raw::to(o, DType::Float32, Device::CPU);
        return out;
      };
      std::vector<Tensor> ref = run(Device::CPU, DType::Float32);
      for (const Tensor& r : ref) check_meaningful(r);
      std::vector<Tensor> got = run(Device::CUDA, DType::Float32);
      for (size_t i = 0; i < ref.size(); ++i) {
        CAPTURE(i);
        CHECK_CLOSE(got[i], ref[i], 0, 0);  // integer data below 2^24: exact
      }
      std::vector<Tensor> wide = run(Device::CUDA, DType::Float64);
      for (size_t i = 0; i < ref.size(); ++i) {
        CAPTURE(i);
        CHECK_CLOSE(wide[i], ref[i], 0, 0);  // integer data: exact in float64 as well
      }
      std::vector<Tensor> half = run(Device::CUDA, DType::Float16);
      for (size_t i = 0; i < ref.size(); ++i) {
        CAPTURE(i);
        // Accumulated in float32, then one rounding to float16 (11 bits): exact below 2048, half a
        // unit in the last place (<= 2.5e-4 relative) above.
        CHECK_CLOSE(half[i], ref[i], 0, 5e-4);
      }
    }
  }
}

TEST_CASE("conv2d: CUDA matches CPU for non-contiguous inputs and the R1 double backward") {
  SG_REQUIRE_CUDA();
  Tensor x = transpose(test::random_tensor({2, 3, 9, 7}, 50, DType::Float32), 2, 3);
  Tensor w = test::random_tensor({5, 3, 3, 3}, 51, DType::Float32);
  Tensor y = conv2d(raw::to(x, DType::Float32, Device::CUDA), raw::to(w, DType::Float32, Device::CUDA), Tensor(), 1, 1);
  check_meaningful(y);
  // Random float32 data, 27-term dot products summed in another order: a few ulps.
  CHECK_CLOSE(raw::to(y, DType::Float32, Device::CPU), conv2d(x, w, Tensor(), 1, 1), 1e-5, 1e-5);

  // Third-order machinery on the GPU: the R1 weight gradient through the create_graph path.
  Tensor xr = test::random_tensor({3, 4, 7, 5}, 52, DType::Float32);
  Tensor wr = test::random_tensor({6, 4, 3, 3}, 53, DType::Float32), br = test::random_tensor({6}, 54, DType::Float32);
  auto run = [&](Device d) {
    Tensor wd = set_requires_grad(raw::to(wr, DType::Float32, d)), bd = set_requires_grad(raw::to(br, DType::Float32, d));
    std::vector<Tensor> g = grad({r1_penalty(raw::to(xr, DType::Float32, d), wd, bd, true)}, {wd, bd});
    return std::vector<Tensor>{raw::to(g[0], DType::Float32, Device::CPU), raw::to(g[1], DType::Float32, Device::CPU)};
  };
  std::vector<Tensor> ref = run(Device::CPU), got = run(Device::CUDA);
  for (size_t i = 0; i < ref.size(); ++i) {
    CAPTURE(i);
    check_meaningful(ref[i]);
    // float32 through tanh and three convolutions of a few hundred terms each: rounding only.
    CHECK_CLOSE(got[i], ref[i], 1e-4, 1e-4);
  }
}

TEST_CASE("conv2d: bad arguments") {
  Tensor x = test::random_tensor({1, 4, 5, 5}, 60);
  CHECK_THROWS_WITH_ALL(conv2d(test::random_tensor({4, 5, 5}, 61), test::random_tensor({3, 4, 3, 3}, 62)), "conv2d",
                        "[N, C, H, W]", "[4, 5, 5]");
  CHECK_THROWS_WITH_ALL(conv2d(x, test::random_tensor({3, 4, 3}, 63)), "conv2d", "4-D weight", "[3, 4, 3]");
  CHECK_THROWS_WITH_ALL(conv2d(x, test::random_tensor({3, 3, 3, 3}, 64)), "conv2d", "3 channels", "[3, 3, 3, 3]",
                        "[1, 4, 5, 5]");
  CHECK_THROWS_WITH_ALL(conv2d(x, test::random_tensor({3, 2, 3, 3}, 65), Tensor(), 1, 0, 2), "conv2d",
                        "divisible by groups", "[3, 2, 3, 3]", "groups 2");
  CHECK_THROWS_WITH_ALL(conv2d(x, test::random_tensor({3, 4, 3, 3}, 66, DType::Float32)), "conv2d", "float64",
                        "float32");
  CHECK_THROWS_WITH_ALL(conv2d(x, test::random_tensor({3, 4, 3, 3}, 67), test::random_tensor({4}, 68)), "conv2d",
                        "bias [3]", "[4]");
  CHECK_THROWS_WITH_ALL(conv2d(x, test::random_tensor({3, 4, 7, 7}, 69)), "conv2d", "output would be empty",
                        "[1, 4, 5, 5]", "[3, 4, 7, 7]");
  CHECK_THROWS_WITH_ALL(conv2d(x, test::random_tensor({3, 4, 3, 3}, 70), Tensor(), 0), "conv2d", "stride >= 1");
  CHECK_THROWS_WITH_ALL(conv_transpose2d(x, test::random_tensor({3, 2, 3, 3}, 71)), "conv_transpose2d",
                        "3 channels", "[3, 2, 3, 3]", "[1, 4, 5, 5]");
  CHECK_THROWS_WITH_ALL(conv_transpose2d(x, test::random_tensor({4, 2, 3, 3}, 72), Tensor(), 2, 0, 2),
                        "conv_transpose2d", "output_padding < stride");
  CHECK_THROWS_WITH_ALL(conv_transpose2d(x, test::random_tensor({4, 2, 3, 3}, 73), Tensor(), 1, 4), "conv_transpose2d",
                        "output would be empty");
  if (cuda_available())
    CHECK_THROWS_WITH_ALL(conv2d(raw::to(x, DType::Float64, Device::CUDA), test::random_tensor({3, 4, 3, 3}, 74)),
                          "conv2d", "on cuda", "on cpu");
}
