// matmul and addmm: values against a triple loop and hand-computed ones, gradcheck and
// gradgradcheck (transposed, strided, batched, broadcast batch, size-1 and empty operands), and
// CUDA-vs-CPU parity in float32 and float16 with integer-valued operands (exact on both devices).
#include <algorithm>
#include <functional>

#include "ops/elementwise/elementwise.h"
#include "ops/matmul/matmul.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"
#include "tests/core_test_util.h"

using namespace sg;
using test::check_gradients;
using test::f64;
using test::leaf;
using test::sample;
using test::spread;

namespace {

// a @ b by loops for 2-D or 3-D operands (a batch of 1 broadcasts).
Tensor matmul_reference(const Tensor& a, const Tensor& b) {
  bool batched = a.dim() == 3;
  Tensor a3 = batched ? a : raw::unsqueeze(a, 0), b3 = batched ? b : raw::unsqueeze(b, 0);
  int64_t batch = std::max(a3.size(0), b3.size(0)), m = a3.size(1), k = a3.size(2), n = b3.size(2);
  std::vector<double> va = raw::contiguous(a3).to_vector(), vb = raw::contiguous(b3).to_vector();
  std::vector<double> out(batch * m * n, 0);
  for (int64_t p = 0; p < batch; ++p) {
    int64_t pa = a3.size(0) == 1 ? 0 : p, pb = b3.size(0) == 1 ? 0 : p;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t q = 0; q < k; ++q) out[(p * m + i) * n + j] += va[(pa * m + i) * k + q] * vb[(pb * k + q) * n + j];
  }
  return Tensor::from_vector(out, batched ? Shape{batch, m, n} : Shape{m, n}, DType::Float64);
}

// Operand layouts: contiguous, stored transposed (a transposed view), strided (every stride
// doubled), and a column narrowed out of a wider matrix (neither row- nor column-major).
Tensor layout(const Tensor& x, int kind) {
  int r = x.dim() - 2, c = x.dim() - 1;
  switch (kind) {
    case 1: return raw::transpose(raw::contiguous(raw::transpose(x, r, c)), r, c);
    case 2: return spread(x);
    case 3: {
      Shape wide = x.shape();
      wide[c] += 3;
      Tensor buffer = Tensor::zeros(wide, x.dtype(), x.device());
      Tensor view = raw::narrow(buffer, c, 1, x.shape()[c]);
      view.copy_(x);
      return view;
    }
    default: return x;
  }
}

}  // namespace

TEST_CASE("matmul: hand-computed values and a loop reference over operand layouts") {
  Tensor a = f64({1, -2, 3, 4}, {2, 2});
  CHECK_CLOSE(matmul(a, a), f64({-5, -10, 15, 10}, {2, 2}), 0, 0);
  Tensor b = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK_CLOSE(matmul(a, b), f64({-7, -8, -9, 19, 26, 33}, {2, 3}), 0, 0);
  CHECK_CLOSE(matmul(transpose(b, 0, 1), a), f64({13, 14, 17, 16, 21, 18}, {3, 2}), 0, 0);
  CHECK_CLOSE(addmm(f64({100, 200, 300}, {3}), a, b), f64({93, 192, 291, 119, 226, 333}, {2, 3}), 0, 0);
  CHECK_CLOSE(matmul(f64({1, 2, 3}, {1, 3}), f64({4, 5, 6}, {3, 1})), f64({32}, {1, 1}), 0, 0);
  // Batched, with the batch of either operand broadcast.
  Tensor ba = f64({1, 0, 0, 1, 2, 0, 0, 2}, {2, 2, 2});
  CHECK_CLOSE(matmul(ba, reshape(b, {1, 2, 3})), f64({1, 2, 3, 4, 5, 6, 2, 4, 6, 8, 10, 12}, {2, 2, 3}), 0, 0);
  // float64 BLAS against a loop: the same products summed in another order.
  for (int ka = 0; ka < 4; ++ka) {
    for (int kb = 0; kb < 4; ++kb) {
      CAPTURE(ka);
      CAPTURE(kb);
      Tensor x = sample({5, 7}, 1 + ka), y = sample({7, 3}, 5 + kb);
      CHECK_CLOSE(matmul(layout(x, ka), layout(y, kb)), matmul_reference(x, y), 1e-14, 1e-14);
      Tensor bx = sample({4, 5, 7}, 9 + ka), by = sample({1, 7, 3}, 13 + kb);
      CHECK_CLOSE(matmul(layout(bx, ka), layout(by, kb)), matmul_reference(bx, by), 1e-14, 1e-14);
      CHECK_CLOSE(matmul(layout(raw::narrow(bx, 0, 0, 1), ka), layout(sample({4, 7, 3}, 17), kb)),
                  matmul_reference(raw::narrow(bx, 0, 0, 1), sample({4, 7, 3}, 17)), 1e-14, 1e-14);
    }
  }
  // A batch taken with a stride (every other matrix) and an expanded (stride 0) batch.
  Tensor many = sample({6, 3, 4}, 18);
  Tensor every_other = many.as_strided({3, 3, 4}, {24, 4, 1}, 0);
  Tensor rhs = sample({3, 4, 2}, 19);
  CHECK_CLOSE(matmul(every_other, rhs), matmul_reference(raw::contiguous(every_other), rhs), 1e-14, 1e-14);
  Tensor shared = raw::expand(sample({1, 4, 2}, 20), {3, 4, 2});
  CHECK_CLOSE(matmul(every_other, shared), matmul_reference(raw::contiguous(every_other), sample({1, 4, 2}, 20)), 1e-14,
              1e-14);
  CHECK(matmul(many, sample({6, 4, 5}, 21)).shape() == Shape{6, 3, 5});
  CHECK(matmul(Tensor::ones({2, 3}, DType::Float16), Tensor::ones({3, 4}, DType::Float16)).to_vector() ==
        std::vector<double>(8, 3));
}

TEST_CASE("matmul: gradcheck and gradgradcheck over operand layouts, batches and size-1 dims") {
  TensorFunction mm = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{matmul(in[0], in[1])}; };
  for (int ka = 0; ka < 4; ++ka) {
    for (int kb = 0; kb < 4; ++kb) {
      std::string label = "matmul layouts " + std::to_string(ka) + "," + std::to_string(kb);
      check_gradients(label, mm, {leaf(layout(sample({3, 4}, 1), ka)), leaf(layout(sample({4, 2}, 2), kb))}, ka == kb);
    }
  }
  check_gradients("bmm", mm, {leaf(sample({2, 3, 4}, 3)), leaf(sample({2, 4, 2}, 4))});
  check_gradients("bmm broadcast left", mm, {leaf(sample({1, 3, 4}, 5)), leaf(sample({3, 4, 2}, 6))});
  check_gradients("bmm broadcast right", mm, {leaf(layout(sample({3, 2, 4}, 7), 1)), leaf(sample({1, 4, 2}, 8))});
  check_gradients("row times column", mm, {leaf(sample({1, 4}, 9)), leaf(sample({4, 1}, 10))});
  check_gradients("inner size 1", mm, {leaf(sample({3, 1}, 11)), leaf(sample({1, 2}, 12))});
  check_gradients("batch 1", mm, {leaf(sample({1, 2, 3}, 13)), leaf(sample({1, 3, 2}, 14))});
  check_gradients("one side only", mm, {sample({3, 4}, 15), leaf(sample({4, 2}, 16))});
  TensorFunction affine = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{addmm(in[2], in[0], in[1])}; };
  check_gradients("addmm row bias", affine, {leaf(sample({3, 4}, 17)), leaf(sample({4, 2}, 18)), leaf(sample({2}, 19))});
  check_gradients("addmm column bias", affine,
                  {leaf(sample({3, 4}, 20)), leaf(sample({4, 2}, 21)), leaf(sample({3, 1}, 22))});
  check_gradients("addmm scalar bias", affine, {leaf(sample({3, 4}, 23)), leaf(sample({4, 2}, 24)), leaf(sample({}, 25))});
  // A composite in which a product feeds a product: second order needs the backward to be matmuls.
  TensorFunction chain = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{matmul(tanh(matmul(in[0], in[1])), transpose(in[1], 0, 1))};
  };
  check_gradients("matmul chain", chain, {leaf(sample({2, 3}, 26)), leaf(sample({3, 3}, 27))});
}

TEST_CASE("matmul: empty operands") {
  Tensor a = leaf(Tensor::zeros({2, 0}, DType::Float64)), b = leaf(Tensor::zeros({0, 3}, DType::Float64));
  Tensor y = matmul(a, b);  // an empty inner dim: a sum of nothing
  CHECK_CLOSE(y, Tensor::zeros({2, 3}, DType::Float64), 0, 0);
  std::vector<Tensor> g = grad({sum(y)}, {a, b});
  CHECK(g[0].shape() == Shape{2, 0});
  CHECK(g[1].shape() == Shape{0, 3});
  CHECK(matmul(Tensor::zeros({0, 3}), Tensor::ones({3, 2})).shape() == Shape{0, 2});
  CHECK(matmul(Tensor::ones({2, 3}), Tensor::zeros({3, 0})).shape() == Shape{2, 0});
  CHECK(matmul(Tensor::zeros({0, 2, 3}), Tensor::zeros({0, 3, 4})).shape() == Shape{0, 2, 4});
  // A batch of 1 broadcasts against a batch of 0, as any size-1 dim does.
  CHECK(matmul(Tensor::ones({1, 2, 3}), Tensor::zeros({0, 3, 4})).shape() == Shape{0, 2, 4});
  CHECK(matmul(Tensor::zeros({0, 2, 3}), Tensor::ones({1, 3, 4})).shape() == Shape{0, 2, 4});
  Tensor c = leaf(Tensor::ones({3, 2}, DType::Float64));
  CHECK(grad({sum(matmul(Tensor::zeros({0, 3}, DType::Float64), c))}, {c})[0].to_vector() == std::vector<double>(6, 0));
}

TEST_CASE("matmul: CUDA matches CPU with integer operands in float32 and float16") {
  SG_REQUIRE_CUDA();
  for (DType dtype : {DType::Float32, DType::Float16}) {
    CAPTURE(std::string(dtype_name(dtype)));
    // Integer values in [-3, 3]: every product and partial sum is an integer below 2^24, so both
    // devices accumulate exactly (float accumulators) and round the result once, identically.
    struct Case {
      Shape a, b;
      int layout_a, layout_b;
    };
    const Case cases[] = {
        {{17, 33}, {33, 9}, 0, 0},      {{17, 33}, {33, 9}, 1, 0},      {{17, 33}, {33, 9}, 0, 1},
        {{17, 33}, {33, 9}, 1, 1},      {{17, 33}, {33, 9}, 2, 3},      {{17, 33}, {33, 9}, 3, 2},
        {{3, 17, 33}, {1, 33, 9}, 0, 1}, {{1, 17, 33}, {5, 33, 9}, 1, 0}, {{4, 1, 33}, {4, 33, 1}, 0, 0},
        {{1, 33}, {33, 1}, 0, 0},       {{1000, 300}, {300, 7}, 0, 1},  {{1, 129, 65}, {1, 65, 257}, 1, 1},
        {{2, 0}, {0, 3}, 0, 0},         {{0, 5}, {5, 3}, 0, 0},
    };
    for (const Case& c : cases) {
      CAPTURE(shape_str(c.a));
      CAPTURE(shape_str(c.b));
      CAPTURE(c.layout_a);
      CAPTURE(c.layout_b);
      Tensor a = test::random_integers(c.a, 1 + c.layout_a, -3, 3, dtype);
      Tensor b = test::random_integers(c.b, 2 + c.layout_b, -3, 3, dtype);
      Tensor ah = leaf(layout(a, c.layout_a)), bh = leaf(layout(b, c.layout_b));
      Tensor ac = leaf(layout(test::cuda(a), c.layout_a)), bc = leaf(layout(test::cuda(b), c.layout_b));
      Tensor yh = matmul(ah, bh), yc = matmul(ac, bc);
      CHECK(yc.is_cuda());
      bool empty_k = c.a.back() == 0;
      CHECK_PARITY(yc, yh, 0, 0, empty_k);
      if (yh.numel() == 0) continue;
      Tensor dy = test::random_integers(yh.shape(), 3, -3, 3, dtype);
      std::vector<Tensor> gh = grad({yh}, {ah, bh}, {dy}), gc = grad({yc}, {ac, bc}, {test::cuda(dy)});
      CHECK_PARITY(gc[0], gh[0], 0, 0, empty_k);
      CHECK_PARITY(gc[1], gh[1], 0, 0, empty_k);
    }
    // addmm with a broadcast bias.
    Tensor a = test::random_integers({31, 20}, 4, -3, 3, dtype), b = test::random_integers({20, 11}, 5, -3, 3, dtype);
    Tensor bias = test::random_integers({11}, 6, -3, 3, dtype);
    CHECK_PARITY(addmm(test::cuda(bias), test::cuda(a), test::cuda(b)), addmm(bias, a, b), 0, 0);
    // Random (non-integer) values: cuBLAS and OpenBLAS sum in different orders.
    Tensor ra = sample({64, 200}, 7, -1, 1, dtype), rb = sample({200, 48}, 8, -1, 1, dtype);
    // float32: 200 products of magnitude <= 1 (the host is ~6e-6 from exact here); float16: the
    // float accumulations may round to neighbouring halves.
    double tol = dtype == DType::Float32 ? 1e-4 : 2e-2;
    CHECK_PARITY(matmul(test::cuda(ra), test::cuda(rb)), matmul(ra, rb), tol, tol);
  }
}
