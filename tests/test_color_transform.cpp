// color_transform (the augment pipe's per-image color matrix) against the composition it replaces
// (a batched matmul and a broadcast add), gradients of every order in x, CUDA parity in float32,
// float64 and float16, and bad arguments.
#include "autograd/gradcheck.h"
#include "ops/color_transform/color_transform.h"
#include "ops/elementwise/elementwise.h"
#include "ops/matmul/matmul.h"
#include "ops/shape/shape.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

Tensor composed(const Tensor& x, const Tensor& matrix, const Tensor& offset) {
  const int64_t N = x.size(0), C = x.size(1);
  Tensor flat = matmul(matrix, reshape(x, {N, C, -1}));
  if (offset.defined()) flat = flat + reshape(offset, {N, C, 1});
  return reshape(flat, x.shape());
}

}  // namespace

TEST_CASE("color_transform: equals the batched matmul plus offset, for 1 to 4 channels") {
  for (int64_t C = 1; C <= 4; ++C)
    for (const Shape& rest : {Shape{5, 7}, Shape{1, 1}, Shape{3}}) {
      for (int64_t N : {1, 3}) {
        Shape shape = {N, C};
        shape.insert(shape.end(), rest.begin(), rest.end());
        CAPTURE(shape_str(shape));
        Tensor x = test::random_tensor(shape, uint64_t(10 * C + N));
        Tensor matrix = test::random_tensor({N, C, C}, 2), offset = test::random_tensor({N, C}, 3);
        CHECK_CLOSE(color_transform(x, matrix, offset), composed(x, matrix, offset), 1e-14, 1e-14);
        CHECK_CLOSE(color_transform(x, matrix), composed(x, matrix, Tensor()), 1e-14, 1e-14);
      }
    }
  // A non-contiguous x (H and W swapped) gives what its contiguous copy gives.
  Tensor x = transpose(test::random_tensor({2, 3, 4, 5}, 4), 2, 3);
  Tensor matrix = test::random_tensor({2, 3, 3}, 5), offset = test::random_tensor({2, 3}, 6);
  CHECK_CLOSE(color_transform(x, matrix, offset), composed(raw::contiguous(x), matrix, offset), 1e-14, 1e-14);
}

TEST_CASE("color_transform: gradcheck and gradgradcheck in x") {
  Tensor x = set_requires_grad(test::random_tensor({2, 3, 3, 4}, 7));
  Tensor matrix = test::random_tensor({2, 3, 3}, 8), offset = test::random_tensor({2, 3}, 9);
  // square() makes the second derivative non-zero, so gradgradcheck runs the backward's backward.
  TensorFunction fn = [&](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{color_transform(square(in[0]), matrix, offset)};
  };
  CHECK_GRADCHECK(gradcheck("color_transform", fn, {x}));
  CHECK_GRADCHECK(gradgradcheck("color_transform", fn, {x}));
  Tensor gray = set_requires_grad(test::random_tensor({1, 1, 5, 3}, 10));
  Tensor gain = test::random_tensor({1, 1, 1}, 11);
  TensorFunction fn_gray = [&](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{color_transform(square(transpose(in[0], 2, 3)), gain)};
  };
  CHECK_GRADCHECK(gradcheck("color_transform", fn_gray, {gray}));
  CHECK_GRADCHECK(gradgradcheck("color_transform", fn_gray, {gray}));
}

TEST_CASE("color_transform: float16 on the CPU computes in float32") {
  Tensor x = test::random_tensor({2, 3, 4, 4}, 12, DType::Float32);
  Tensor matrix = test::random_tensor({2, 3, 3}, 13, DType::Float32), offset = test::random_tensor({2, 3}, 14, DType::Float32);
  auto half = [](const Tensor& t) { return cast(t, DType::Float16); };
  auto back = [](const Tensor& t) { return cast(cast(t, DType::Float16), DType::Float32); };
  Tensor y = color_transform(half(x), half(matrix), half(offset));
  CHECK(y.dtype() == DType::Float16);
  CHECK_CLOSE(cast(y, DType::Float32), color_transform(back(x), back(matrix), back(offset)), 2e-3, 2e-3);
}

TEST_CASE("color_transform: CUDA matches the CPU in float32, float64 and float16, gradients included") {
  SG_REQUIRE_CUDA();
  for (DType dtype : {DType::Float32, DType::Float64, DType::Float16})
    for (int64_t C : {1, 3, 4}) {
      CAPTURE(std::string(dtype_name(dtype)));
      CAPTURE(C);
      // Values that float16 holds exactly, so both devices see the same inputs.
      Tensor x = test::random_integers({3, C, 37, 29}, 15, -8, 8, DType::Float32);
      Tensor matrix = mul(test::random_integers({3, C, C}, 16, -4, 4, DType::Float32), 0.25);
      Tensor offset = mul(test::random_integers({3, C}, 17, -4, 4, DType::Float32), 0.5);
      Tensor want = color_transform(x, matrix, offset);
      auto dev = [&](const Tensor& t) { return raw::to(t, dtype, Device::CUDA); };
      Tensor xc = set_requires_grad(dev(x));
      Tensor got = color_transform(xc, dev(matrix), dev(offset));
      CHECK_CLOSE(raw::to(got, DType::Float32, Device::CPU), want, 1e-5, 1e-5);
      Tensor g = test::random_integers(x.shape(), 18, -4, 4, DType::Float32);
      Tensor dx = grad({got}, {xc}, {dev(g)})[0];
      CHECK_CLOSE(raw::to(dx, DType::Float32, Device::CPU), composed(g, transpose(matrix, 1, 2), Tensor()), 1e-5, 1e-5);
    }
  // Batch 1 and a single pixel.
  Tensor x = test::random_tensor({1, 3, 1, 1}, 19, DType::Float32);
  Tensor matrix = test::random_tensor({1, 3, 3}, 20, DType::Float32), offset = test::random_tensor({1, 3}, 21, DType::Float32);
  Tensor got = color_transform(raw::to(x, DType::Float32, Device::CUDA), raw::to(matrix, DType::Float32, Device::CUDA),
                               raw::to(offset, DType::Float32, Device::CUDA));
  CHECK_CLOSE(raw::to(got, DType::Float32, Device::CPU), color_transform(x, matrix, offset), 1e-6, 1e-6);
}

TEST_CASE("color_transform: bad arguments name the op and the shapes") {
  Tensor x = test::random_tensor({2, 3, 4, 4}, 22), matrix = test::random_tensor({2, 3, 3}, 23);
  CHECK_THROWS_WITH_ALL(color_transform(test::random_tensor({2, 5, 4, 4}, 24), test::random_tensor({2, 5, 5}, 25)),
                        "color_transform", "1 to 4 channels", "[2, 5, 4, 4]");
  CHECK_THROWS_WITH_ALL(color_transform(x, test::random_tensor({2, 3, 4}, 26)), "color_transform",
                        "expected matrix [2, 3, 3]", "[2, 3, 4]");
  CHECK_THROWS_WITH_ALL(color_transform(x, matrix, test::random_tensor({2, 4}, 27)), "color_transform",
                        "expected offset [2, 3]", "[2, 4]");
  CHECK_THROWS_WITH_ALL(color_transform(x, cast(matrix, DType::Float32)), "color_transform", "float32", "float64");
  CHECK_THROWS_WITH_ALL(color_transform(x, set_requires_grad(raw::clone(matrix))), "color_transform",
                        "no gradient");
  CHECK_THROWS_WITH_ALL(color_transform(test::random_tensor({6}, 28), matrix), "color_transform", "[N, C, ...]");
}
