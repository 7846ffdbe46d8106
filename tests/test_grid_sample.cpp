// grid_sample and affine_grid: hand-computed values, gradients of every order with respect to the
// image, the refused grid gradient, CUDA parity (float32, float64, float16) and bad arguments.
#include <cmath>
#include <limits>

#include "autograd/gradcheck.h"
#include "ops/elementwise/elementwise.h"
#include "ops/grid_sample/grid_sample.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

Tensor identity_theta(int64_t n, DType dtype = DType::Float64, Device device = Device::CPU) {
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i) v.insert(v.end(), {1, 0, 0, 0, 1, 0});
  return Tensor::from_vector(v, {n, 2, 3}, dtype, device);
}

// A grid that reaches outside [-1, 1], so zero padding matters.
Tensor wild_grid(const Shape& shape, uint64_t seed, DType dtype = DType::Float64, Device device = Device::CPU) {
  return test::random_tensor(shape, seed, dtype, device, -1.3, 1.3);
}

// Rounds through float16 and back, so that a float32 reference sees the same inputs as a float16 run.
Tensor round_to_half(const Tensor& t) { return raw::to(raw::to(t, DType::Float16, Device::CPU), DType::Float32, Device::CPU); }

void check_finite_nonzero(const Tensor& t) {
  double max_abs = 0;
  for (double v : t.to_vector()) {
    REQUIRE(std::isfinite(v));
    max_abs = std::max(max_abs, std::abs(v));
  }
  REQUIRE(max_abs > 0);
}

}  // namespace

TEST_CASE("grid_sample: hand-computed bilinear values with zero padding, batch and channel indexing") {
  // Image [[1, 2], [3, 4]]; sample points (x, y) and what they read:
  //   (0, 0) the centre: the mean 2.5;  (-1, -1) the corner: a quarter of pixel (0, 0) = 0.25;
  //   (0.5, -0.5) exactly pixel (x 1, y 0) = 2;  (1, 1) a quarter of pixel (1, 1) = 1;
  //   (2, 0) fully outside = 0;  (-1.25, 0) a quarter of column 0 averaged over rows = 0.5.
  const std::vector<double> points = {0, 0, -1, -1, 0.5, -0.5, 1, 1, 2, 0, -1.25, 0};
  const std::vector<double> values = {2.5, 0.25, 2, 1, 0, 0.5};
  const std::vector<double> weight_sums = {1, 0.25, 1, 0.25, 0, 0.25};  // what a constant image reads
  // x[n, c] = base + 10 c + 100 n, so a wrong batch or channel offset changes the result.
  std::vector<double> xv, grid_v, want;
  for (int n = 0; n < 2; ++n) {
    for (int c = 0; c < 2; ++c)
      for (double b : {1, 2, 3, 4}) xv.push_back(b + 10 * c + 100 * n);
    grid_v.insert(grid_v.end(), points.begin(), points.end());
    for (int c = 0; c < 2; ++c)
      for (size_t p = 0; p < values.size(); ++p) want.push_back(values[p] + (10 * c + 100 * n) * weight_sums[p]);
  }
  Tensor x = Tensor::from_vector(xv, {2, 2, 2, 2}, DType::Float64);
  Tensor grid = Tensor::from_vector(grid_v, {2, 2, 3, 2}, DType::Float64);
  CHECK_CLOSE(grid_sample(x, grid), Tensor::from_vector(want, {2, 2, 2, 3}, DType::Float64), 1e-12, 0);  // exact up to rounding
  // Float32 reads the same (every weight here is a power of two).
  CHECK_CLOSE(grid_sample(raw::to(x, DType::Float32, Device::CPU), raw::to(grid, DType::Float32, Device::CPU)),
              Tensor::from_vector(want, {2, 2, 2, 3}, DType::Float32), 0, 0);
}

TEST_CASE("grid_sample: identity grid reproduces the image, shifts move it") {
  Tensor x = test::random_tensor({2, 3, 5, 6}, 1);
  Tensor grid = affine_grid(identity_theta(2), {2, 3, 5, 6});
  CHECK_CLOSE(grid_sample(x, grid), x, 1e-12, 0);  // exact up to the rounding of the pixel centres
  // Shift by one pixel to the right in x: theta translation 2/W; the last column reads zeros.
  Tensor theta = Tensor::from_vector({1, 0, 2.0 / 6, 0, 1, 0}, {1, 2, 3}, DType::Float64);
  Tensor row = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {1, 1, 1, 6}, DType::Float64);
  CHECK_CLOSE(grid_sample(row, affine_grid(theta, {1, 1, 1, 6})),
              Tensor::from_vector({2, 3, 4, 5, 6, 0}, {1, 1, 1, 6}, DType::Float64), 1e-12, 0);
  Tensor half = Tensor::from_vector({1, 0, 1.0 / 6, 0, 1, 0}, {1, 2, 3}, DType::Float64);
  CHECK_CLOSE(grid_sample(row, affine_grid(half, {1, 1, 1, 6})),
              Tensor::from_vector({1.5, 2.5, 3.5, 4.5, 5.5, 3}, {1, 1, 1, 6}, DType::Float64), 1e-12, 0);
  // One pixel down in y on a column: the rows move up.
  Tensor down = Tensor::from_vector({1, 0, 0, 0, 1, 2.0 / 4}, {1, 2, 3}, DType::Float64);
  Tensor column = Tensor::from_vector({1, 2, 3, 4}, {1, 1, 4, 1}, DType::Float64);
  CHECK_CLOSE(grid_sample(column, affine_grid(down, {1, 1, 4, 1})),
              Tensor::from_vector({2, 3, 4, 0}, {1, 1, 4, 1}, DType::Float64), 1e-12, 0);
}

TEST_CASE("grid_sample: infinite, NaN and huge coordinates sample zeros") {
  double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = test::random_tensor({1, 2, 3, 3}, 14);
  Tensor grid = Tensor::from_vector({inf, 0, -inf, 0, 0, nan, 1e300, -1e300, 0, 0}, {1, 1, 5, 2}, DType::Float64);
  std::vector<double> y = grid_sample(x, grid).to_vector();
  for (int c = 0; c < 2; ++c) {
    for (int p = 0; p < 4; ++p) CHECK(y[c * 5 + p] == 0);
    CHECK(y[c * 5 + 4] == x.to_vector()[c * 9 + 4]);  // the centre still reads the centre pixel
  }
}

TEST_CASE("affine_grid: hand-computed values") {
  // Pixel centres for H 2, W 3: x in {-2/3, 0, 2/3}, y in {-1/2, 1/2}; grid = theta [x, y, 1].
  Tensor theta = Tensor::from_vector({0.5, 0.25, 0.1, -0.2, 2, -0.3, -1, 0, 0, 0, 1, 0.5}, {2, 2, 3}, DType::Float64);
  Tensor want = Tensor::from_vector(
      {-0.358333333333333, -1.166666666666667, -0.025, -1.3, 0.308333333333333, -1.433333333333333,
       -0.108333333333333, 0.833333333333333, 0.225, 0.7, 0.558333333333333, 0.566666666666667,
       0.666666666666667, 0.0, 0.0, 0.0, -0.666666666666667, 0.0, 0.666666666666667, 1.0, 0.0, 1.0,
       -0.666666666666667, 1.0},
      {2, 2, 3, 2}, DType::Float64);
  CHECK_CLOSE(affine_grid(theta, {2, 7, 2, 3}), want, 1e-12, 0);  // expected values rounded to 15 places
}

TEST_CASE("grid_sample: gradcheck and gradgradcheck with respect to the image") {
  Tensor x = set_requires_grad(test::random_tensor({2, 3, 5, 6}, 2));
  Tensor grid = wild_grid({2, 4, 3, 2}, 3);
  // square() makes the second derivative non-zero, so gradgradcheck tests the backward's backward.
  TensorFunction fn = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{grid_sample(square(in[0]), grid)}; };
  CHECK_GRADCHECK(gradcheck("grid_sample", fn, {x}));
  CHECK_GRADCHECK(gradgradcheck("grid_sample", fn, {x}));
  // Batch 1, odd sizes, a non-contiguous image.
  Tensor xt = test::random_tensor({1, 2, 5, 3}, 15);
  set_requires_grad(xt);
  Tensor grid1 = wild_grid({1, 3, 4, 2}, 16);
  TensorFunction fn_t = [&](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{grid_sample(square(transpose(in[0], 2, 3)), grid1)};
  };
  CHECK_GRADCHECK(gradcheck("grid_sample", fn_t, {xt}));
  CHECK_GRADCHECK(gradgradcheck("grid_sample", fn_t, {xt}));
}

TEST_CASE("grid_sample: third-order gradient with respect to the image") {
  Tensor x = set_requires_grad(test::random_tensor({1, 2, 3, 4}, 17));
  Tensor grid = wild_grid({1, 3, 2, 2}, 18);
  Tensor v = test::random_tensor({1, 2, 3, 2}, 19);
  // f(x) = d/dx sum(v grid_sample(x^2)^3), built with create_graph: the upstream gradient of the
  // sampling depends on x, so checking f's second derivative runs the backward of the backward of
  // the backward of grid_sample.
  TensorFunction fn = [&](const std::vector<Tensor>& in) {
    // gradcheck's numerical passes run without grad mode on plain tensors; the inner gradient needs both.
    bool outer_records = grad_mode_enabled();
    EnableGradGuard enable(true);
    Tensor xi = requires_grad(in[0]) ? in[0] : set_requires_grad(in[0].detach());
    Tensor loss = sum(mul(pow(grid_sample(square(xi), grid), 3), v));
    return grad({loss}, {xi}, {}, {.create_graph = outer_records});
  };
  CHECK_GRADCHECK(gradcheck("grid_sample", fn, {x}));
  CHECK_GRADCHECK(gradgradcheck("grid_sample", fn, {x}));
}

TEST_CASE("grid_sample_backward_input: the adjoint of grid_sample, gradcheck in dy") {
  Tensor x = test::random_tensor({2, 3, 4, 5}, 20), grid = wild_grid({2, 3, 6, 2}, 21);
  Tensor dy = test::random_tensor({2, 3, 3, 6}, 22);
  Tensor dx = grid_sample_backward_input(dy, grid, x.shape());
  check_finite_nonzero(dx);
  // <grid_sample(x), dy> = <x, grid_sample_backward_input(dy)>.
  CHECK(sum(mul(grid_sample(x, grid), dy)).item() == doctest::Approx(sum(mul(x, dx)).item()).epsilon(1e-12));
  set_requires_grad(dy);
  TensorFunction fn = [&](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{grid_sample_backward_input(square(in[0]), grid, {2, 3, 4, 5})};
  };
  CHECK_GRADCHECK(gradcheck("grid_sample_backward_input", fn, {dy}));
  CHECK_GRADCHECK(gradgradcheck("grid_sample_backward_input", fn, {dy}));
}

TEST_CASE("grid_sample: float16 on the CPU computes in float32") {
  Tensor x = round_to_half(test::random_tensor({2, 3, 5, 6}, 23, DType::Float32));
  Tensor grid = round_to_half(wild_grid({2, 4, 3, 2}, 24, DType::Float32));
  Tensor y = grid_sample(cast(x, DType::Float16), cast(grid, DType::Float16));
  CHECK(y.dtype() == DType::Float16);
  CHECK_CLOSE(cast(y, DType::Float32), grid_sample(x, grid), 1e-3, 1e-3);  // one float16 rounding of the output
}

TEST_CASE("affine_grid: gradcheck with respect to theta, and the grid gradient is refused") {
  Tensor theta = set_requires_grad(add(identity_theta(2), test::random_tensor({2, 2, 3}, 4, DType::Float64, Device::CPU, -0.2, 0.2)));
  TensorFunction fn = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{affine_grid(in[0], {2, 1, 3, 4})}; };
  CHECK_GRADCHECK(gradcheck("affine_grid", fn, {theta}));
  CHECK_GRADCHECK(gradgradcheck("affine_grid", fn, {theta}));
  Tensor x = test::random_tensor({2, 1, 3, 4}, 5);
  CHECK_THROWS_WITH_ALL(backward(sum(grid_sample(x, affine_grid(theta, {2, 1, 3, 4})))), "grid_sample",
                        "gradient with respect to the grid is not supported");
}

TEST_CASE("grid_sample: a grid that requires a gradient is fine while only the image's is asked for") {
  Tensor x = set_requires_grad(test::random_tensor({1, 2, 3, 4}, 25));
  Tensor grid = set_requires_grad(wild_grid({1, 2, 2, 2}, 26));
  Tensor y = grid_sample(x, grid);
  Tensor dy = test::random_tensor({1, 2, 2, 2}, 27);
  Tensor dx = grad({y}, {x}, {dy}, {.retain_graph = 1})[0];
  CHECK_CLOSE(dx, grid_sample_backward_input(dy, grid.detach(), x.shape()), 0, 0);  // the same computation
  CHECK_THROWS_WITH_ALL(grad({y}, {grid}, {dy}), "grid_sample", "grid is not supported");
  Tensor dy_leaf = set_requires_grad(test::random_tensor({1, 2, 2, 2}, 28));
  CHECK_THROWS_WITH_ALL(backward(sum(grid_sample_backward_input(dy_leaf, grid, x.shape()))),
                        "grid_sample_backward_input", "grid is not supported");
}

TEST_CASE("grid_sample: bad arguments") {
  Tensor x = test::random_tensor({2, 3, 5, 6}, 10);
  CHECK_THROWS_WITH_ALL(grid_sample(test::random_tensor({3, 5, 6}, 29), test::random_tensor({2, 4, 4, 2}, 11)),
                        "grid_sample", "x [N, C, H, W]", "[3, 5, 6]");
  CHECK_THROWS_WITH_ALL(grid_sample(x, test::random_tensor({1, 4, 4, 2}, 11)), "grid_sample", "[2, Ho, Wo, 2]", "[1, 4, 4, 2]");
  CHECK_THROWS_WITH_ALL(grid_sample(x, test::random_tensor({2, 4, 4, 3}, 11)), "grid_sample", "[2, Ho, Wo, 2]", "[2, 4, 4, 3]");
  CHECK_THROWS_WITH_ALL(grid_sample(x, test::random_tensor({2, 4, 4, 2}, 12, DType::Float32)), "grid_sample",
                        "grid of dtype float64", "float32");
  CHECK_THROWS_WITH_ALL(grid_sample(Tensor::zeros({1, 1, 2, 2}, DType::Int64), Tensor::zeros({1, 2, 2, 2}, DType::Int64)),
                        "grid_sample", "floating", "int64");
  CHECK_THROWS_WITH_ALL(grid_sample_backward_input(test::random_tensor({2, 3, 4, 5}, 30), test::random_tensor({2, 4, 4, 2}, 31),
                                                   {2, 3, 5, 6}),
                        "grid_sample_backward_input", "[2, 3, 4, 5]", "[2, 4, 4, 2]");
  CHECK_THROWS_WITH_ALL(grid_sample_backward_input(test::random_tensor({2, 3, 4, 4}, 30), test::random_tensor({2, 4, 4, 2}, 31),
                                                   {2, 1, 5, 6}),
                        "grid_sample_backward_input", "x_shape [2, 3, H, W]", "[2, 1, 5, 6]");
  CHECK_THROWS_WITH_ALL(affine_grid(test::random_tensor({2, 3, 3}, 13), {2, 1, 4, 4}), "affine_grid", "[N, 2, 3]");
  CHECK_THROWS_WITH_ALL(affine_grid(identity_theta(2), {3, 1, 4, 4}), "affine_grid", "[2, C, H > 0, W > 0]", "[3, 1, 4, 4]");
  CHECK_THROWS_WITH_ALL(affine_grid(identity_theta(2), {2, 4, 4}), "affine_grid", "[2, C, H > 0, W > 0]", "[2, 4, 4]");
  CHECK_THROWS_WITH_ALL(affine_grid(identity_theta(2), {2, 1, 0, 4}), "affine_grid", "[2, C, H > 0, W > 0]", "[2, 1, 0, 4]");
  CHECK_THROWS_WITH_ALL(affine_grid(Tensor::zeros({2, 2, 3}, DType::Int64), {2, 1, 4, 4}), "affine_grid", "floating",
                        "int64");
}

TEST_CASE("grid_sample: CUDA rejects a grid on another device") {
  SG_REQUIRE_CUDA();
  Tensor x = test::random_tensor({2, 3, 5, 6}, 10, DType::Float32, Device::CUDA);
  CHECK_THROWS_WITH_ALL(grid_sample(x, test::random_tensor({2, 4, 4, 2}, 11, DType::Float32)), "grid_sample",
                        "grid on cuda", "cpu");
}

TEST_CASE("grid_sample: CUDA matches CPU in float32 and float64, forward and backward") {
  SG_REQUIRE_CUDA();
  // Odd sizes (not multiples of the block), batch 1, a single row.
  for (Shape shape : {Shape{3, 5, 17, 23}, Shape{1, 1, 4, 4}, Shape{2, 3, 1, 7}}) {
    CAPTURE(shape_str(shape));
    for (DType dtype : {DType::Float32, DType::Float64}) {
      Tensor x = test::random_tensor(shape, 6, dtype);
      Tensor grid = wild_grid({shape[0], 9, 31, 2}, 7, dtype);
      Tensor dy = test::random_tensor({shape[0], shape[1], 9, 31}, 8, dtype);
      Tensor xc = set_requires_grad(to_device(x, Device::CUDA)), xh = set_requires_grad(raw::clone(x));
      Tensor yc = grid_sample(xc, to_device(grid, Device::CUDA)), yh = grid_sample(xh, grid);
      check_finite_nonzero(yh);
      CHECK_CLOSE(yc, yh, 1e-5, 1e-5);  // float32: fused multiply-adds round differently
      Tensor dxc = grad({yc}, {xc}, {to_device(dy, Device::CUDA)})[0], dxh = grad({yh}, {xh}, {dy})[0];
      check_finite_nonzero(dxh);
      CHECK_CLOSE(dxc, dxh, 1e-5, 1e-5);  // float32: atomics add in another order
    }
  }
}

TEST_CASE("grid_sample: CUDA float16 matches a float32 CPU run on the same rounded inputs") {
  SG_REQUIRE_CUDA();
  for (Shape shape : {Shape{3, 5, 17, 23}, Shape{1, 2, 5, 3}}) {
    CAPTURE(shape_str(shape));
    Tensor x = round_to_half(test::random_tensor(shape, 32, DType::Float32));
    Tensor grid = round_to_half(wild_grid({shape[0], 11, 13, 2}, 33, DType::Float32));
    Tensor dy = round_to_half(test::random_tensor({shape[0], shape[1], 11, 13}, 34, DType::Float32));
    auto on_cuda_half = [](const Tensor& t) { return cast(to_device(t, Device::CUDA), DType::Float16); };
    Tensor y = grid_sample(on_cuda_half(x), on_cuda_half(grid));
    CHECK(y.dtype() == DType::Float16);
    Tensor y_ref = grid_sample(x, grid);
    check_finite_nonzero(y_ref);
    CHECK_CLOSE(cast(y, DType::Float32), y_ref, 1e-3, 1e-3);  // float math, one float16 rounding of the output
    Tensor dx = grid_sample_backward_input(on_cuda_half(dy), on_cuda_half(grid), shape);
    CHECK(dx.dtype() == DType::Float16);
    Tensor dx_ref = grid_sample_backward_input(dy, grid, shape);
    check_finite_nonzero(dx_ref);
    CHECK_CLOSE(cast(dx, DType::Float32), dx_ref, 1e-3, 1e-3);  // float accumulation, one float16 rounding at the end
  }
}

TEST_CASE("grid_sample: CUDA non-contiguous inputs and second-order gradients match CPU") {
  SG_REQUIRE_CUDA();
  Tensor x = test::random_tensor({2, 3, 7, 5}, 35, DType::Float32);
  // The grid as a transposed view of a [N, Wo, Ho, 2] tensor, the image as a transposed view.
  Tensor grid = transpose(wild_grid({2, 6, 9, 2}, 36, DType::Float32), 1, 2);
  Tensor v = test::random_tensor({2, 3, 9, 6}, 37, DType::Float32);
  Tensor w = test::random_tensor({2, 3, 7, 5}, 38, DType::Float32);
  auto second_order = [&](Device device) {
    Tensor xd = set_requires_grad(to_device(x, device));
    Tensor y = grid_sample(square(transpose(xd, 2, 3)), to_device(grid, device));
    Tensor g1 = grad({y}, {xd}, {to_device(v, device)}, {.create_graph = true})[0];
    Tensor g2 = grad({g1}, {xd}, {to_device(w, device)})[0];
    return std::vector<Tensor>{to_device(y, Device::CPU), to_device(g1, Device::CPU), to_device(g2, Device::CPU)};
  };
  std::vector<Tensor> cuda = second_order(Device::CUDA), cpu = second_order(Device::CPU);
  for (size_t i = 0; i < cpu.size(); ++i) {
    check_finite_nonzero(cpu[i]);
    CHECK_CLOSE(cuda[i].detach(), cpu[i].detach(), 1e-5, 1e-5);  // float32: summation order differs
  }
}

TEST_CASE("affine_grid: CUDA matches CPU in float32") {
  SG_REQUIRE_CUDA();
  Tensor theta = add(identity_theta(3, DType::Float32), test::random_tensor({3, 2, 3}, 39, DType::Float32, Device::CPU, -0.3, 0.3));
  Tensor want = affine_grid(theta, {3, 4, 9, 11});
  check_finite_nonzero(want);
  CHECK_CLOSE(affine_grid(to_device(theta, Device::CUDA), {3, 4, 9, 11}), want, 1e-6, 1e-6);  // float32 matmul rounding
}
