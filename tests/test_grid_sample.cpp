// grid_sample and affine_grid: known values, gradients of every order with respect to the
// image, the refused grid gradient, CUDA parity and errors.
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

}  // namespace

TEST_CASE("grid_sample: identity grid reproduces the image, a half-pixel shift averages") {
  Tensor x = test::random_tensor({2, 3, 5, 6}, 1);
  Tensor grid = affine_grid(identity_theta(2), {2, 3, 5, 6});
  CHECK_CLOSE(grid_sample(x, grid), x, 1e-12, 0);
  // Shift by one pixel to the right in x: theta translation 2/W.
  Tensor theta = Tensor::from_vector({1, 0, 2.0 / 6, 0, 1, 0}, {1, 2, 3}, DType::Float64);
  Tensor row = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {1, 1, 1, 6}, DType::Float64);
  CHECK_CLOSE(grid_sample(row, affine_grid(theta, {1, 1, 1, 6})),
              Tensor::from_vector({2, 3, 4, 5, 6, 0}, {1, 1, 1, 6}, DType::Float64), 1e-12, 0);
  Tensor half = Tensor::from_vector({1, 0, 1.0 / 6, 0, 1, 0}, {1, 2, 3}, DType::Float64);
  CHECK_CLOSE(grid_sample(row, affine_grid(half, {1, 1, 1, 6})),
              Tensor::from_vector({1.5, 2.5, 3.5, 4.5, 5.5, 3}, {1, 1, 1, 6}, DType::Float64), 1e-12, 0);
}

TEST_CASE("grid_sample: gradcheck and gradgradcheck with respect to the image") {
  Tensor x = set_requires_grad(test::random_tensor({2, 3, 5, 6}, 2));
  Tensor grid = wild_grid({2, 4, 3, 2}, 3);
  TensorFunction fn = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{grid_sample(square(in[0]), grid)}; };
  CHECK_GRADCHECK(gradcheck("grid_sample", fn, {x}));
  CHECK_GRADCHECK(gradgradcheck("grid_sample", fn, {x}));
}

TEST_CASE("affine_grid: gradcheck with respect to theta, and the grid gradient is refused") {
  Tensor theta = set_requires_grad(add(identity_theta(2), test::random_tensor({2, 2, 3}, 4, DType::Float64, Device::CPU, -0.2, 0.2)));
  TensorFunction fn = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{affine_grid(in[0], {2, 1, 3, 4})}; };
  CHECK_GRADCHECK(gradcheck("affine_grid", fn, {theta}));
  Tensor x = test::random_tensor({2, 1, 3, 4}, 5);
  CHECK_THROWS_WITH_ALL(backward(sum(grid_sample(x, affine_grid(theta, {2, 1, 3, 4})))), "grid_sample", "grid is not supported");
}

TEST_CASE("grid_sample: CUDA matches CPU in float32 and float16, forward and backward") {
  SG_REQUIRE_CUDA();
  for (Shape shape : {Shape{3, 5, 17, 23}, Shape{1, 1, 4, 4}}) {
    Tensor x = test::random_tensor(shape, 6, DType::Float32);
    Tensor grid = wild_grid({shape[0], 9, 31, 2}, 7, DType::Float32);
    Tensor dy = test::random_tensor({shape[0], shape[1], 9, 31}, 8, DType::Float32);
    Tensor xc = set_requires_grad(raw::to(x, DType::Float32, Device::CUDA)), xh = set_requires_grad(raw::clone(x));
    Tensor yc = grid_sample(xc, to_device(grid, Device::CUDA)), yh = grid_sample(xh, grid);
    CHECK_CLOSE(yc, yh, 1e-5, 1e-5);
    CHECK_CLOSE(grad({yc}, {xc}, {to_device(dy, Device::CUDA)})[0], grad({yh}, {xh}, {dy})[0], 1e-5, 1e-5);
    Tensor half = grid_sample(cast(to_device(x, Device::CUDA), DType::Float16), cast(to_device(grid, Device::CUDA), DType::Float16));
    CHECK_CLOSE(cast(half, DType::Float32), yh, 2e-2, 2e-2);  // float16 grid coordinates and values
    Tensor strided = transpose(to_device(x, Device::CUDA), 2, 3);
    Tensor gt = wild_grid({shape[0], 4, 4, 2}, 9, DType::Float32);
    CHECK_CLOSE(grid_sample(strided, to_device(gt, Device::CUDA)), grid_sample(transpose(x, 2, 3), gt), 1e-5, 1e-5);
  }
}

TEST_CASE("grid_sample: bad arguments") {
  Tensor x = test::random_tensor({2, 3, 5, 6}, 10);
  CHECK_THROWS_WITH_ALL(grid_sample(x, test::random_tensor({1, 4, 4, 2}, 11)), "grid_sample", "[2, Ho, Wo, 2]", "[1, 4, 4, 2]");
  CHECK_THROWS_WITH_ALL(grid_sample(x, test::random_tensor({2, 4, 4, 2}, 12, DType::Float32)), "grid_sample", "float32");
  CHECK_THROWS_WITH_ALL(affine_grid(test::random_tensor({2, 3, 3}, 13), {2, 1, 4, 4}), "affine_grid", "[N, 2, 3]");
}
