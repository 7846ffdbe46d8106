// The core ops (elementwise, reductions, views and data movement, matmul): gradcheck and
// gradgradcheck in float64 on the CPU with broadcasting, non-contiguous inputs, size-1 and empty
// dims; forward values against hand-computed ones; CUDA-vs-CPU parity in float32 and float16.
#include <cmath>
#include <functional>

#include "autograd/gradcheck.h"
#include "engine/allocator.h"
#include "ops/elementwise/elementwise.h"
#include "ops/matmul/matmul.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

using Unary = std::function<Tensor(const Tensor&)>;
using Binary = std::function<Tensor(const Tensor&, const Tensor&)>;

struct UnaryCase {
  const char* name;
  Unary fn;
  double lo, hi;  // input range avoiding kinks and poles
  bool smooth;    // has a second derivative worth checking
};

std::vector<UnaryCase> unary_cases() {
  return {
      {"neg", [](const Tensor& x) { return neg(x); }, -1, 1, true},
      {"abs", [](const Tensor& x) { return abs(x); }, 0.2, 1, true},
      {"exp", [](const Tensor& x) { return exp(x); }, -1, 1, true},
      {"log", [](const Tensor& x) { return log(x); }, 0.5, 2, true},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, 0.5, 2, true},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, 0.5, 2, true},
      {"square", [](const Tensor& x) { return square(x); }, -1, 1, true},
      {"reciprocal", [](const Tensor& x) { return reciprocal(x); }, 0.5, 2, true},
      {"pow 2.5", [](const Tensor& x) { return pow(x, 2.5); }, 0.5, 2, true},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.5); }, -1, 1, true},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, -2, 2, true},
      {"tanh", [](const Tensor& x) { return tanh(x); }, -2, 2, true},
      {"softplus", [](const Tensor& x) { return softplus(x); }, -2, 2, true},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); }, -1, 1, true},
      {"sin", [](const Tensor& x) { return sin(x); }, -2, 2, true},
      {"cos", [](const Tensor& x) { return cos(x); }, -2, 2, true},
      {"add scalar", [](const Tensor& x) { return add(x, 1.5); }, -1, 1, true},
      {"mul scalar", [](const Tensor& x) { return mul(x, -2.0); }, -1, 1, true},
  };
}

struct BinaryCase {
  const char* name;
  Binary fn;
  double lo, hi;
};

std::vector<BinaryCase> binary_cases() {
  return {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }, -1, 1},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }, -1, 1},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }, -1, 1},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }, 0.5, 2},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, -1, 1},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, -1, 1},
      {"lerp 0.3", [](const Tensor& a, const Tensor& b) { return lerp(a, b, 0.3); }, -1, 1},
  };
}

// Input that avoids kinks: values kept |x| >= 0.1 when the range spans 0.
Tensor sample(const Shape& shape, uint64_t seed, double lo, double hi, DType dtype = DType::Float64,
              Device device = Device::CPU) {
  Tensor t = test::random_tensor(shape, seed, DType::Float64, Device::CPU, lo, hi);
  if (lo < 0 && hi > 0) {
    std::vector<double> v = t.to_vector();
    for (double& x : v)
      if (std::fabs(x) < 0.1) x += x < 0 ? -0.1 : 0.1;
    t = Tensor::from_vector(v, shape, DType::Float64);
  }
  return raw::to(t, dtype, device);
}

GradcheckResult check_unary(const UnaryCase& c, const Tensor& x, bool second) {
  TensorFunction fn = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{c.fn(in[0])}; };
  return second ? gradgradcheck(c.name, fn, {x}) : gradcheck(c.name, fn, {x});
}

}  // namespace

TEST_CASE("core: unary ops gradcheck and gradgradcheck, contiguous and strided") {
  for (const UnaryCase& c : unary_cases()) {
    CAPTURE(std::string(c.name));
    Tensor x = set_requires_grad(sample({2, 3}, 1, c.lo, c.hi));
    CHECK_GRADCHECK(check_unary(c, x, false));
    if (c.smooth) CHECK_GRADCHECK(check_unary(c, x, true));
    Tensor base = sample({3, 2}, 2, c.lo, c.hi);
    Tensor strided = set_requires_grad(transpose(base, 0, 1).detach());
    CHECK_FALSE(strided.is_contiguous());
    CHECK_GRADCHECK(check_unary(c, strided, false));
    CHECK_CLOSE(c.fn(strided.detach()), c.fn(contiguous(strided.detach())), 0, 0);
  }
}

TEST_CASE("core: binary ops with broadcasting, gradcheck and gradgradcheck") {
  for (const BinaryCase& c : binary_cases()) {
    CAPTURE(std::string(c.name));
    for (auto [sa, sb] : {std::pair<Shape, Shape>{{2, 1, 3}, {4, 1}}, {{2, 3}, {2, 3}}, {{3}, {}}, {{1, 3}, {2, 1}}}) {
      Tensor a = set_requires_grad(sample(sa, 3, c.lo, c.hi));
      Tensor b = set_requires_grad(sample(sb, 4, c.lo, c.hi));
      // maximum/minimum: keep a and b apart so no tie sits inside the finite difference.
      if (std::string(c.name) == "maximum" || std::string(c.name) == "minimum") b = set_requires_grad(add(b.detach(), 0.05));
      TensorFunction fn = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{c.fn(in[0], in[1])}; };
      CHECK_GRADCHECK(gradcheck(c.name, fn, {a, b}));
      CHECK_GRADCHECK(gradgradcheck(c.name, fn, {a, b}));
    }
  }
}

TEST_CASE("core: forward values against hand-computed ones") {
  Tensor a = Tensor::from_vector({1, -2, 3, 4}, {2, 2}, DType::Float64);
  Tensor b = Tensor::from_vector({10, 20}, {2}, DType::Float64);
  CHECK_CLOSE(add(a, b), Tensor::from_vector({11, 18, 13, 24}, {2, 2}, DType::Float64), 0, 0);
  CHECK_CLOSE(div(a, b), Tensor::from_vector({0.1, -0.1, 0.3, 0.2}, {2, 2}, DType::Float64), 1e-15, 0);
  CHECK_CLOSE(sum(a, {0}), Tensor::from_vector({4, 2}, {2}, DType::Float64), 0, 0);
  CHECK_CLOSE(mean(a, {1}, true), Tensor::from_vector({-0.5, 3.5}, {2, 1}, DType::Float64), 0, 0);
  CHECK_CLOSE(amax(a, {1}), Tensor::from_vector({1, 4}, {2}, DType::Float64), 0, 0);
  CHECK_CLOSE(amin(a), Tensor::scalar(-2, DType::Float64), 0, 0);
  CHECK(norm(a).item() == doctest::Approx(std::sqrt(30.0)));
  CHECK_CLOSE(where(gt(a, 0.0), a, b), Tensor::from_vector({1, 20, 3, 4}, {2, 2}, DType::Float64), 0, 0);
  CHECK_CLOSE(matmul(a, a), Tensor::from_vector({-5, -10, 15, 10}, {2, 2}, DType::Float64), 0, 0);
  CHECK_CLOSE(cat({a, a}, 1), Tensor::from_vector({1, -2, 1, -2, 3, 4, 3, 4}, {2, 4}, DType::Float64), 0, 0);
  CHECK_CLOSE(repeat(b, {2, 2}), Tensor::from_vector({10, 20, 10, 20, 10, 20, 10, 20}, {2, 4}, DType::Float64), 0, 0);
  CHECK_CLOSE(flip(a, {1}), Tensor::from_vector({-2, 1, 4, 3}, {2, 2}, DType::Float64), 0, 0);
  CHECK_CLOSE(pad(b, {1, -1}), Tensor::from_vector({0, 10}, {2}, DType::Float64), 0, 0);
  CHECK_CLOSE(index_select(a, 0, Tensor::from_vector({1, 1, 0}, {3}, DType::Int64)),
              Tensor::from_vector({3, 4, 3, 4, 1, -2}, {3, 2}, DType::Float64), 0, 0);
  CHECK_CLOSE(round(Tensor::from_vector({0.5, 1.5, -2.5}, {3}, DType::Float64)),
              Tensor::from_vector({0, 2, -2}, {3}, DType::Float64), 0, 0);  // half to even
  CHECK_CLOSE(softplus(Tensor::from_vector({30, 0}, {2}, DType::Float64)),
              Tensor::from_vector({30, std::log(2.0)}, {2}, DType::Float64), 1e-15, 0);
}

TEST_CASE("core: ties split the gradient of maximum and of amax") {
  Tensor a = set_requires_grad(Tensor::from_vector({1, 2}, {2}, DType::Float64));
  Tensor b = set_requires_grad(Tensor::from_vector({1, 1}, {2}, DType::Float64));
  std::vector<Tensor> g = grad({sum(maximum(a, b))}, {a, b});
  CHECK_CLOSE(g[0], Tensor::from_vector({0.5, 1}, {2}, DType::Float64), 0, 0);
  CHECK_CLOSE(g[1], Tensor::from_vector({0.5, 0}, {2}, DType::Float64), 0, 0);
  Tensor x = set_requires_grad(Tensor::from_vector({3, 1, 3}, {3}, DType::Float64));
  CHECK_CLOSE(grad({amax(x)}, {x})[0], Tensor::from_vector({0.5, 0, 0.5}, {3}, DType::Float64), 0, 0);
}

TEST_CASE("core: reductions gradcheck over chosen dims with keepdim") {
  using Reduction = std::function<Tensor(const Tensor&, const std::vector<int64_t>&, bool)>;
  std::vector<std::pair<const char*, Reduction>> reductions = {
      {"sum", [](const Tensor& x, const std::vector<int64_t>& d, bool k) { return sum(x, d, k); }},
      {"mean", [](const Tensor& x, const std::vector<int64_t>& d, bool k) { return mean(x, d, k); }},
      {"amax", [](const Tensor& x, const std::vector<int64_t>& d, bool k) { return amax(x, d, k); }},
      {"amin", [](const Tensor& x, const std::vector<int64_t>& d, bool k) { return amin(x, d, k); }},
      {"norm", [](const Tensor& x, const std::vector<int64_t>& d, bool k) { return norm(x, d, k); }},
  };
  for (auto& [name, fn] : reductions) {
    for (std::vector<int64_t> dims : {std::vector<int64_t>{}, {1}, {0, 2}, {-1}}) {
      for (bool keepdim : {false, true}) {
        CAPTURE(std::string(name));
        CAPTURE(dims.size());
        Tensor x = set_requires_grad(sample({2, 3, 4}, 5, -1, 1));
        TensorFunction f = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{fn(in[0], dims, keepdim)}; };
        CHECK_GRADCHECK(gradcheck(name, f, {x}));
        CHECK_GRADCHECK(gradgradcheck(name, f, {x}));
      }
    }
  }
}

TEST_CASE("core: views and data movement gradcheck and gradgradcheck") {
  Tensor x = set_requires_grad(sample({2, 3, 4}, 6, -1, 1));
  std::vector<std::pair<const char*, TensorFunction>> ops = {
      {"reshape", [](const std::vector<Tensor>& in) { return std::vector<Tensor>{reshape(in[0], {4, -1})}; }},
      {"reshape of permuted", [](const std::vector<Tensor>& in) {
         return std::vector<Tensor>{reshape(permute(in[0], {2, 0, 1}), {8, 3})}; }},
      {"permute", [](const std::vector<Tensor>& in) { return std::vector<Tensor>{permute(in[0], {1, 2, 0})}; }},
      {"narrow", [](const std::vector<Tensor>& in) { return std::vector<Tensor>{narrow(in[0], 2, 1, 2)}; }},
      {"select", [](const std::vector<Tensor>& in) { return std::vector<Tensor>{select(in[0], 1, -1)}; }},
      {"expand", [](const std::vector<Tensor>& in) {
         return std::vector<Tensor>{expand(unsqueeze(in[0], 0), {3, 2, 3, 4})}; }},
      {"squeeze", [](const std::vector<Tensor>& in) { return std::vector<Tensor>{squeeze(narrow(in[0], 0, 1, 1), 0)}; }},
      {"flatten", [](const std::vector<Tensor>& in) { return std::vector<Tensor>{flatten(in[0], 1)}; }},
      {"cat", [](const std::vector<Tensor>& in) { return std::vector<Tensor>{cat({in[0], square(in[0])}, 1)}; }},
      {"stack", [](const std::vector<Tensor>& in) { return std::vector<Tensor>{stack({in[0], in[0]}, 3)}; }},
      {"repeat", [](const std::vector<Tensor>& in) { return std::vector<Tensor>{repeat(in[0], {2, 1, 2, 1})}; }},
      {"flip", [](const std::vector<Tensor>& in) { return std::vector<Tensor>{flip(in[0], {0, 2})}; }},
      {"pad", [](const std::vector<Tensor>& in) { return std::vector<Tensor>{pad(in[0], {1, -1, 2, 0})}; }},
      {"index_select", [](const std::vector<Tensor>& in) {
         return std::vector<Tensor>{index_select(in[0], 2, Tensor::from_vector({3, 0, 3}, {3}, DType::Int64))}; }},
      {"cast", [](const std::vector<Tensor>& in) {
         return std::vector<Tensor>{cast(mul(cast(in[0], DType::Float32), 2.0), DType::Float64)}; }},
  };
  for (auto& [name, fn] : ops) {
    CAPTURE(std::string(name));
    if (std::string(name) == "cast") {
      // A float32 round trip: the finite differences need a float32-sized step and tolerance.
      GradcheckOptions loose;
      loose.eps = 1e-3;
      loose.atol = 1e-4;
      CHECK_GRADCHECK(gradcheck(name, fn, {x}, loose));
      continue;
    }
    CHECK_GRADCHECK(gradcheck(name, fn, {x}));
    CHECK_GRADCHECK(gradgradcheck(name, fn, {x}));
  }
}

TEST_CASE("core: matmul gradcheck, transposed operands and batch broadcast") {
  Tensor a = set_requires_grad(sample({3, 4}, 7, -1, 1)), b = set_requires_grad(sample({4, 2}, 8, -1, 1));
  TensorFunction mm = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{matmul(in[0], in[1])}; };
  CHECK_GRADCHECK(gradcheck("matmul", mm, {a, b}));
  CHECK_GRADCHECK(gradgradcheck("matmul", mm, {a, b}));
  Tensor at = set_requires_grad(transpose(sample({4, 3}, 9, -1, 1), 0, 1).detach());
  CHECK_GRADCHECK(gradcheck("matmul transposed", mm, {at, b}));
  Tensor ba = set_requires_grad(sample({1, 3, 4}, 10, -1, 1)), bb = set_requires_grad(sample({5, 4, 2}, 11, -1, 1));
  CHECK_GRADCHECK(gradcheck("bmm broadcast", mm, {ba, bb}));
  Tensor bias = set_requires_grad(sample({2}, 12, -1, 1));
  TensorFunction affine = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{addmm(in[2], in[0], in[1])}; };
  CHECK_GRADCHECK(gradcheck("addmm", affine, {a, b, bias}));
}

TEST_CASE("core: empty and size-1 tensors") {
  Tensor e = Tensor::zeros({0, 3}, DType::Float64);
  CHECK(add(e, Tensor::ones({3}, DType::Float64)).shape() == Shape{0, 3});
  CHECK(sum(e, {0}).to_vector() == std::vector<double>{0, 0, 0});
  CHECK(matmul(e, Tensor::ones({3, 2}, DType::Float64)).shape() == Shape{0, 2});
  CHECK(cat({e, Tensor::ones({2, 3}, DType::Float64)}, 0).shape() == Shape{2, 3});
  CHECK_THROWS_WITH_ALL(amax(e, {0}), "amax", "empty dim");
  Tensor one = set_requires_grad(Tensor::from_vector({2}, {1, 1}, DType::Float64));
  CHECK(grad({sum(mul(one, one))}, {one})[0].item() == 4);
}

TEST_CASE("core: error messages name the op and the shapes") {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4});
  CHECK_THROWS_WITH_ALL(add(a, b), "add", "[2, 3]", "[4]", "broadcast");
  CHECK_THROWS_WITH_ALL(add(a, Tensor::zeros({2, 3}, DType::Float64)), "add", "dtype mismatch", "float32", "float64");
  CHECK_THROWS_WITH_ALL(sum(a, {2}), "sum", "dim 2 out of range");
  CHECK_THROWS_WITH_ALL(reshape(a, {4, -1}), "reshape", "[4, -1]", "6 elements");
  CHECK_THROWS_WITH_ALL(matmul(a, Tensor::zeros({2, 3})), "matmul", "inner dimensions");
  CHECK_THROWS_WITH_ALL(index_select(a, 0, Tensor::from_vector({2}, {1}, DType::Int64)), "index_select", "index 2",
                        "size 2");
  CHECK_THROWS_WITH_ALL(backward(mul(set_requires_grad(Tensor::ones({2})), 2.0)), "backward", "scalar outputs");
  CHECK_THROWS_WITH_ALL(set_requires_grad(mul(set_requires_grad(Tensor::ones({2})), 2.0)), "set_requires_grad",
                        "only leaf");
  CHECK_THROWS_WITH_ALL(Tensor().dim(), "undefined tensor");
  CHECK_THROWS_WITH_ALL(permute(a, {0, 0}), "permute", "repeated");
}

TEST_CASE("core: float16 and bfloat16 conversions round to nearest even") {
  CHECK(float_to_half(1.0f).bits == 0x3c00);
  CHECK(float_to_half(65504.0f).bits == 0x7bff);
  CHECK(float_to_half(65520.0f).bits == 0x7c00);  // rounds past the largest half: inf
  CHECK(float_to_half(5.960464477539063e-08f).bits == 0x0001);  // smallest subnormal
  CHECK(float_to_half(1.0f + 1.0f / 2048).bits == 0x3c00);       // tie: to even
  CHECK(float_to_half(1.0f + 3.0f / 2048).bits == 0x3c02);
  CHECK(half_to_float(Half{0x0001}) == 5.960464477539063e-08f);
  CHECK(std::isnan(half_to_float(float_to_half(NAN))));
  CHECK(float_to_bfloat16(1.0f).bits == 0x3f80);
  Tensor x = Tensor::from_vector({0.1, -3.75, 1e5}, {3}, DType::Float16);
  std::vector<double> v = x.to_vector();
  CHECK(v[0] == doctest::Approx(0.0999755859375));
  CHECK(v[1] == -3.75);
  CHECK(std::isinf(v[2]));
}

TEST_CASE("core: CUDA matches CPU for every op, float32 and float16, forward and backward") {
  SG_REQUIRE_CUDA();
  for (DType dtype : {DType::Float32, DType::Float16}) {
    double tol = dtype == DType::Float32 ? 1e-5 : 2e-2;  // float16: 11-bit mantissa storage
    for (const UnaryCase& c : unary_cases()) {
      CAPTURE(std::string(c.name));
      Tensor x = sample({37, 29}, 20, c.lo, c.hi, DType::Float32);
      Tensor xc = set_requires_grad(raw::to(x, dtype, Device::CUDA)), xh = set_requires_grad(raw::to(x, dtype, Device::CPU));
      Tensor yc = c.fn(xc), yh = c.fn(xh);
      CHECK_CLOSE(cast(to_device(yc, Device::CPU), DType::Float32), cast(yh, DType::Float32), tol, tol);
      Tensor dy = sample(yh.shape(), 21, -1, 1, dtype);
      CHECK_CLOSE(cast(to_device(grad({yc}, {xc}, {to_device(dy, Device::CUDA)})[0], Device::CPU), DType::Float32),
                  cast(grad({yh}, {xh}, {dy})[0], DType::Float32), tol, tol);
    }
    for (const BinaryCase& c : binary_cases()) {
      CAPTURE(std::string(c.name));
      Tensor a = sample({7, 1, 33}, 22, c.lo, c.hi, dtype), b = sample({5, 1}, 23, c.lo, c.hi, dtype);
      CHECK_CLOSE(cast(to_device(c.fn(to_device(a, Device::CUDA), to_device(b, Device::CUDA)), Device::CPU), DType::Float32),
                  cast(c.fn(a, b), DType::Float32), tol, tol);
    }
    // Reductions: a single long row (split path), many short rows, leading dims, all dims.
    Tensor big = sample({1000003}, 24, -1, 1, DType::Float32);
    Tensor bigc = raw::to(big, dtype, Device::CUDA);
    double sum_tol = dtype == DType::Float32 ? 1e-2 : 5.0;  // float32 sums of 1e6 terms in another order
    CHECK_CLOSE(to_device(cast(sum(bigc), DType::Float32), Device::CPU), sum(cast(raw::to(big, dtype, Device::CPU), DType::Float32)),
                sum_tol, 1e-4);
    CHECK(amax(bigc).item() == doctest::Approx(amax(raw::to(big, dtype, Device::CPU)).item()));
    Tensor x4 = sample({6, 130, 9, 7}, 25, -1, 1, dtype);
    Tensor x4c = to_device(x4, Device::CUDA);
    for (std::vector<int64_t> dims : {std::vector<int64_t>{0, 2, 3}, {3}, {}, {1}})
      CHECK_CLOSE(cast(to_device(sum(x4c, dims), Device::CPU), DType::Float32), sum(cast(x4, DType::Float32), dims),
                  dtype == DType::Float32 ? 1e-4 : 0.5, 1e-2);
    // Views, data movement and matmul.
    Tensor m = sample({4, 5, 6}, 26, -1, 1, dtype), mc = to_device(m, Device::CUDA);
    Tensor idx = Tensor::from_vector({5, 0, 2, 2}, {4}, DType::Int64);
    CHECK_CLOSE(to_device(index_select(mc, 2, idx), Device::CPU), index_select(m, 2, idx), 0, 0);
    CHECK_CLOSE(to_device(cat({mc, flip(mc, {1})}, 1), Device::CPU), cat({m, flip(m, {1})}, 1), 0, 0);
    CHECK_CLOSE(to_device(pad(permute(mc, {2, 0, 1}), {1, 2, -1, 0}), Device::CPU), pad(permute(m, {2, 0, 1}), {1, 2, -1, 0}),
                0, 0);
    CHECK_CLOSE(to_device(repeat(mc, {2, 1, 1, 3}), Device::CPU), repeat(m, {2, 1, 1, 3}), 0, 0);
    Tensor ia = test::random_integers({3, 17, 33}, 27, -3, 3, dtype), ib = test::random_integers({1, 33, 9}, 28, -3, 3, dtype);
    CHECK_CLOSE(to_device(matmul(to_device(ia, Device::CUDA), to_device(ib, Device::CUDA)), Device::CPU), matmul(ia, ib), 0, 0);
    CHECK_CLOSE(to_device(matmul(transpose(to_device(ib, Device::CUDA), 1, 2), transpose(to_device(ia, Device::CUDA), 1, 2)),
                          Device::CPU),
                matmul(transpose(ib, 1, 2), transpose(ia, 1, 2)), 0, 0);
  }
}

TEST_CASE("core: device mismatch and the CUDA caching allocator") {
  SG_REQUIRE_CUDA();
  CHECK_THROWS_WITH_ALL(add(Tensor::zeros({2}), Tensor::zeros({2}, DType::Float32, Device::CUDA)), "add", "device mismatch",
                        "cpu", "cuda");
  { Tensor warm = Tensor::empty({1 << 20}, DType::Float32, Device::CUDA); }
  AllocatorStats before = cuda_allocator_stats();
  { Tensor again = Tensor::empty({1 << 20}, DType::Float32, Device::CUDA); }
  AllocatorStats after = cuda_allocator_stats();
  CHECK(after.cuda_malloc_calls == before.cuda_malloc_calls);  // the freed block of this size was reused
  CHECK(after.cache_hits == before.cache_hits + 1);
  cuda_allocator_reset_peak();
  Tensor big = Tensor::empty({1 << 22}, DType::Float32, Device::CUDA);
  CHECK(cuda_allocator_stats().peak_allocated_bytes >= size_t(16) << 20);
  big = Tensor();
  cuda_allocator_empty_cache();
  CHECK(cuda_allocator_stats().reserved_bytes == cuda_allocator_stats().allocated_bytes);
}

TEST_CASE("core: allocator size classes") {
  CHECK(cuda_size_class(1) == 512);
  CHECK(cuda_size_class(512) == 512);
  CHECK(cuda_size_class(513) == 1024);
  CHECK(cuda_size_class((1 << 20) + 1) == size_t(2) << 20);
  CHECK(cuda_size_class(size_t(5) << 20) == size_t(6) << 20);
}
