// conv2d and conv_transpose2d: values against a direct loop, gradcheck/gradgradcheck over
// strides, padding and groups, the R1 pattern, the no-weight-gradients scope, CUDA parity and
// errors.
#include "autograd/gradcheck.h"
#include "ops/conv2d/conv2d.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

// Direct 7-loop convolution: the oracle for the im2col path.
Tensor direct_conv(const Tensor& x, const Tensor& w, int stride, int pad, int groups) {
  int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), K = w.size(0), R = w.size(2), S = w.size(3);
  int64_t Ho = (H + 2 * pad - R) / stride + 1, Wo = (W + 2 * pad - S) / stride + 1, cg = C / groups, kg = K / groups;
  std::vector<double> xv = x.to_vector(), wv = w.to_vector(), out(N * K * Ho * Wo, 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t oy = 0; oy < Ho; ++oy)
        for (int64_t ox = 0; ox < Wo; ++ox) {
          double acc = 0;
          int64_t g = k / kg;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t r = 0; r < R; ++r)
              for (int64_t q = 0; q < S; ++q) {
                int64_t iy = oy * stride - pad + r, ix = ox * stride - pad + q;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                acc += xv[((n * C + g * cg + c) * H + iy) * W + ix] * wv[((k * cg + c) * R + r) * S + q];
              }
          out[((n * K + k) * Ho + oy) * Wo + ox] = acc;
        }
  return Tensor::from_vector(out, {N, K, Ho, Wo}, DType::Float64);
}

struct Geometry {
  int k, stride, pad, groups;
};
const Geometry kGeometries[] = {{3, 1, 1, 1}, {3, 2, 0, 1}, {1, 1, 0, 2}, {3, 2, 1, 2}, {1, 2, 0, 1}};

}  // namespace

TEST_CASE("conv2d: matches a direct loop, including groups and strides") {
  for (const Geometry& g : kGeometries) {
    CAPTURE(g.k);
    CAPTURE(g.stride);
    CAPTURE(g.groups);
    Tensor x = test::random_tensor({2, 4, 7, 6}, 1);
    Tensor w = test::random_tensor({6, 4 / g.groups, g.k, g.k}, 2);
    CHECK_CLOSE(conv2d(x, w, Tensor(), g.stride, g.pad, g.groups), direct_conv(x, w, g.stride, g.pad, g.groups), 1e-12, 1e-12);
  }
  Tensor x = test::random_tensor({1, 2, 4, 4}, 3), w = test::random_tensor({3, 2, 3, 3}, 4), b = test::random_tensor({3}, 5);
  CHECK_CLOSE(conv2d(x, w, b, 1, 1), add(direct_conv(x, w, 1, 1, 1), reshape(b, {1, 3, 1, 1})), 1e-12, 1e-12);
}

TEST_CASE("conv2d and conv_transpose2d: gradcheck and gradgradcheck") {
  for (const Geometry& g : kGeometries) {
    CAPTURE(g.k);
    CAPTURE(g.stride);
    CAPTURE(g.groups);
    Tensor x = set_requires_grad(test::random_tensor({2, 2 * g.groups, 5, 4}, 10));
    Tensor w = set_requires_grad(test::random_tensor({2 * g.groups, 2, g.k, g.k}, 11));
    TensorFunction conv = [&](const std::vector<Tensor>& in) {
      return std::vector<Tensor>{conv2d(in[0], in[1], Tensor(), g.stride, g.pad, g.groups)};
    };
    CHECK_GRADCHECK(gradcheck("conv2d", conv, {x, w}));
    CHECK_GRADCHECK(gradgradcheck("conv2d", conv, {x, w}));
    TensorFunction transposed = [&](const std::vector<Tensor>& in) {
      return std::vector<Tensor>{conv_transpose2d(in[0], in[1], Tensor(), g.stride, g.pad, g.stride - 1, g.groups)};
    };
    CHECK_GRADCHECK(gradcheck("conv_transpose2d", transposed, {x, w}));
    CHECK_GRADCHECK(gradgradcheck("conv_transpose2d", transposed, {x, w}));
  }
  Tensor x = set_requires_grad(test::random_tensor({1, 2, 3, 3}, 12));
  Tensor w = set_requires_grad(test::random_tensor({2, 2, 3, 3}, 13));
  Tensor b = set_requires_grad(test::random_tensor({2}, 14));
  TensorFunction with_bias = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{conv2d(in[0], in[1], in[2], 1, 1)};
  };
  CHECK_GRADCHECK(gradcheck("conv2d with bias", with_bias, {x, w, b}));
}

TEST_CASE("conv2d: the R1 pattern reaches the weights through the input gradient") {
  // penalty(w) = |d sum(tanh(conv(x, w))) / dx|^2: its weight gradient exists only through the
  // create_graph path, even with weight gradients off in the inner pass.
  Tensor x = set_requires_grad(test::random_tensor({2, 2, 4, 4}, 20));
  Tensor w = set_requires_grad(test::random_tensor({3, 2, 3, 3}, 21));
  TensorFunction penalty = [](const std::vector<Tensor>& in) {
    // gradcheck's numerical pass runs without grad mode; the inner gradient needs it anyway.
    bool outer_records = grad_mode_enabled();
    EnableGradGuard enable(true);
    Tensor xi = in[0].detach();
    set_requires_grad(xi);
    Tensor g;
    {
      NoWeightGradientsGuard guard;
      GradOptions create;
      create.create_graph = outer_records;
      g = grad({sum(tanh(conv2d(xi, in[1], Tensor(), 1, 1)))}, {xi}, {}, create)[0];
    }
    return std::vector<Tensor>{sum(square(g))};
  };
  Tensor xc = x.detach();
  CHECK_GRADCHECK(gradcheck("r1 pattern", penalty, {xc, w}));
}

TEST_CASE("conv2d: NoWeightGradientsGuard skips the weight gradient") {
  Tensor x = set_requires_grad(test::random_tensor({1, 2, 4, 4}, 30));
  Tensor w = set_requires_grad(test::random_tensor({2, 2, 3, 3}, 31));
  NoWeightGradientsGuard guard;
  CHECK_FALSE(weight_gradients_enabled());
  backward(sum(conv2d(x, w, Tensor(), 1, 1)));
  CHECK(grad_of(x).defined());
  CHECK_FALSE(grad_of(w).defined());
}

TEST_CASE("conv2d: CUDA matches CPU in float32 and float16") {
  SG_REQUIRE_CUDA();
  for (const Geometry& g : kGeometries) {
    CAPTURE(g.k);
    CAPTURE(g.stride);
    CAPTURE(g.groups);
    for (Shape xs : {Shape{3, 6, 13, 11}, Shape{1, 6, 8, 8}}) {
      // Integer-valued data keeps float32 sums exact, whatever the summation order.
      Tensor x = test::random_integers(xs, 40, -3, 3), w = test::random_integers({4, 6 / g.groups, g.k, g.k}, 41, -2, 2);
      Tensor dy = test::random_integers(conv2d(x, w, Tensor(), g.stride, g.pad, g.groups).shape(), 42, -2, 2);
      auto run = [&](Device d, DType t) {
        Tensor xd = set_requires_grad(raw::to(x, t, d)), wd = set_requires_grad(raw::to(w, t, d));
        Tensor y = conv2d(xd, wd, Tensor(), g.stride, g.pad, g.groups);
        std::vector<Tensor> gr = grad({sum(mul(y, raw::to(dy, t, d)))}, {xd, wd});
        Tensor yt = conv_transpose2d(raw::to(dy, t, d), wd.detach(), Tensor(), g.stride, g.pad, 0, g.groups);
        return std::vector<Tensor>{y, gr[0], gr[1], yt};
      };
      std::vector<Tensor> ref = run(Device::CPU, DType::Float32), got = run(Device::CUDA, DType::Float32);
      for (size_t i = 0; i < ref.size(); ++i) CHECK_CLOSE(got[i], ref[i], 0, 0);
      std::vector<Tensor> half = run(Device::CUDA, DType::Float16);
      // Small integer products and sums are exact in float16 too, up to 2048.
      for (size_t i = 0; i < ref.size(); ++i) CHECK_CLOSE(cast(half[i], DType::Float32), ref[i], 0, 1e-3);
    }
  }
  Tensor x = transpose(test::random_tensor({2, 3, 9, 7}, 43, DType::Float32, Device::CUDA), 2, 3);
  Tensor w = test::random_tensor({5, 3, 3, 3}, 44, DType::Float32, Device::CUDA);
  CHECK_CLOSE(conv2d(x, w, Tensor(), 1, 1), conv2d(raw::to(x, DType::Float32, Device::CPU), raw::to(w, DType::Float32, Device::CPU), Tensor(), 1, 1),
              1e-5, 1e-5);
}

TEST_CASE("conv2d: bad arguments") {
  Tensor x = test::random_tensor({1, 4, 5, 5}, 50);
  CHECK_THROWS_WITH_ALL(conv2d(x, test::random_tensor({3, 3, 3, 3}, 51)), "conv2d", "3 channels", "[3, 3, 3, 3]",
                        "[1, 4, 5, 5]");
  CHECK_THROWS_WITH_ALL(conv2d(test::random_tensor({4, 5, 5}, 52), test::random_tensor({3, 4, 3, 3}, 53)), "conv2d",
                        "[N, C, H, W]", "[4, 5, 5]");
  CHECK_THROWS_WITH_ALL(conv2d(x, test::random_tensor({3, 4, 7, 7}, 54)), "conv2d", "output would be empty");
  CHECK_THROWS_WITH_ALL(conv2d(x, test::random_tensor({3, 4, 3, 3}, 55, DType::Float32)), "conv2d", "float64", "float32");
  CHECK_THROWS_WITH_ALL(conv_transpose2d(x, test::random_tensor({4, 2, 3, 3}, 56), Tensor(), 2, 0, 2), "conv_transpose2d",
                        "output_padding < stride");
}
