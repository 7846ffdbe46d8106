// Differentiable views and data movement (ops/shape/shape.h): values against hand-computed ones,
// gradcheck and gradgradcheck for every op (strided, size-1, 0-d and empty inputs), views that
// share storage, and CUDA-vs-CPU parity in float32 and float16, forward and backward.
#include <functional>

#include "ops/elementwise/elementwise.h"
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

Tensor i64(const std::vector<double>& v) { return Tensor::from_vector(v, {int64_t(v.size())}, DType::Int64); }
std::vector<double> range(int n) {
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = i;
  return v;
}

struct ShapeCase {
  const char* name;
  std::function<Tensor(const Tensor&)> fn;  // applied to a [2, 3, 4] input
};

// Every op of shape.h on a [2, 3, 4] input; ops of several inputs combine x with functions of it.
std::vector<ShapeCase> shape_cases() {
  return {
      {"reshape", [](const Tensor& x) { return reshape(x, {4, -1}); }},
      {"reshape of permuted", [](const Tensor& x) { return reshape(permute(x, {2, 0, 1}), {8, 3}); }},
      {"reshape of narrowed", [](const Tensor& x) { return reshape(narrow(x, 2, 1, 2), {-1}); }},
      {"flatten", [](const Tensor& x) { return flatten(x, 1); }},
      {"flatten middle", [](const Tensor& x) { return flatten(x, 0, 1); }},
      {"permute", [](const Tensor& x) { return permute(x, {1, 2, 0}); }},
      {"transpose", [](const Tensor& x) { return transpose(x, 0, -1); }},
      {"narrow", [](const Tensor& x) { return narrow(x, 2, 1, 2); }},
      {"select", [](const Tensor& x) { return select(x, 1, -1); }},
      {"expand", [](const Tensor& x) { return expand(unsqueeze(x, 0), {3, 2, 3, 4}); }},
      {"expand size-1", [](const Tensor& x) { return expand(narrow(x, 1, 0, 1), {2, 5, 4}); }},
      {"unsqueeze", [](const Tensor& x) { return unsqueeze(x, -1); }},
      {"squeeze", [](const Tensor& x) { return squeeze(narrow(x, 0, 1, 1), 0); }},
      {"contiguous", [](const Tensor& x) { return contiguous(transpose(x, 0, 2)); }},
      {"cat", [](const Tensor& x) { return cat({x, square(x), narrow(x, 1, 0, 1)}, 1); }},
      {"cat last", [](const Tensor& x) { return cat({x, neg(x)}, -1); }},
      {"stack", [](const Tensor& x) { return stack({x, mul(x, 2.0)}, 3); }},
      {"stack first", [](const Tensor& x) { return stack({x, x}, 0); }},
      {"repeat", [](const Tensor& x) { return repeat(x, {2, 1, 2, 1}); }},
      {"index_select", [](const Tensor& x) { return index_select(x, 2, i64({3, 0, 3})); }},
      {"index_select dim 0", [](const Tensor& x) { return index_select(x, 0, i64({1, 1, 0, 1})); }},
      {"index_add", [](const Tensor& x) { return index_add({2, 5, 4}, 1, i64({4, 0, 4}), x); }},
      {"flip", [](const Tensor& x) { return flip(x, {0, 2}); }},
      {"flip of transposed", [](const Tensor& x) { return flip(transpose(x, 1, 2), {-1}); }},
      {"pad", [](const Tensor& x) { return pad(x, {1, -1, 2, 0}); }},
      {"pad three dims", [](const Tensor& x) { return pad(x, {0, 2, -1, -1, 1, 1}); }},
  };
}

}  // namespace

TEST_CASE("shape: forward values") {
  Tensor x = reshape(f64(range(24), {24}), {2, 3, 4});
  CHECK(x.storage() != nullptr);
  CHECK(reshape(x, {4, -1}).to_vector() == range(24));
  CHECK(flatten(x, 1).shape() == Shape{2, 12});
  CHECK(flatten(x, 0, 1).shape() == Shape{6, 4});
  CHECK(flatten(x, -2).shape() == Shape{2, 12});
  CHECK(flatten(Tensor::scalar(1)).shape() == Shape{1});
  CHECK(flatten(Tensor::zeros({0, 3, 2}), 1).shape() == Shape{0, 6});
  CHECK(permute(x, {1, 2, 0}).to_vector()[1] == 12);
  CHECK(transpose(x, 0, -1).shape() == Shape{4, 3, 2});
  CHECK(narrow(x, 2, 1, 2).to_vector() == std::vector<double>{1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22});
  CHECK(select(x, 1, -1).to_vector() == std::vector<double>{8, 9, 10, 11, 20, 21, 22, 23});
  CHECK(select(x, 0, 1).to_vector() == std::vector<double>{12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23});
  CHECK(expand(f64({1, 2}, {2, 1}), {2, 3}).to_vector() == std::vector<double>{1, 1, 1, 2, 2, 2});
  CHECK(unsqueeze(x, 1).shape() == Shape{2, 1, 3, 4});
  CHECK(squeeze(unsqueeze(x, 3), -1).shape() == Shape{2, 3, 4});
  // Views share storage; contiguous, cat, stack, repeat, index_select, flip and pad copy.
  for (const Tensor& view : {reshape(x, {6, 4}), permute(x, {2, 1, 0}), narrow(x, 0, 1, 1), select(x, 2, 0),
                             expand(x, {5, 2, 3, 4}), unsqueeze(x, 0), flatten(x)})
    CHECK(view.storage() == x.storage());
  CHECK(contiguous(x).same(x));
  Tensor packed = contiguous(transpose(x, 0, 1));
  CHECK(packed.is_contiguous());
  CHECK(packed.storage() != x.storage());
  CHECK(packed.to_vector()[4] == 12);
  CHECK(cast(x, DType::Float64).same(x));
  CHECK(cast(x, DType::Float32).dtype() == DType::Float32);
  CHECK(cast(x, DType::Float16).to_vector() == x.to_vector());
  CHECK(to_device(x, Device::CPU).same(x));

  Tensor a = f64({1, 2, 3, 4}, {2, 2}), b = f64({5, 6}, {2, 1});
  CHECK(cat({a, b}, 1).to_vector() == std::vector<double>{1, 2, 5, 3, 4, 6});
  CHECK(cat({a, transpose(a, 0, 1)}, 0).to_vector() == std::vector<double>{1, 2, 3, 4, 1, 3, 2, 4});
  CHECK(cat({a, Tensor::zeros({0, 2}, DType::Float64), a}, 0).shape() == Shape{4, 2});
  CHECK(cat({a}, -1).to_vector() == a.to_vector());
  CHECK(stack({a, a}, 0).shape() == Shape{2, 2, 2});
  CHECK(stack({a, mul(a, 10.0)}, -1).to_vector() == std::vector<double>{1, 10, 2, 20, 3, 30, 4, 40});
  CHECK(stack({Tensor::scalar(1, DType::Float64), Tensor::scalar(2, DType::Float64)}, 0).to_vector() ==
        std::vector<double>{1, 2});
  CHECK(repeat(f64({10, 20}, {2}), {2, 2}).to_vector() == std::vector<double>{10, 20, 10, 20, 10, 20, 10, 20});
  CHECK(repeat(b, {1, 3}).to_vector() == std::vector<double>{5, 5, 5, 6, 6, 6});
  CHECK(repeat(a, {0, 1}).shape() == Shape{0, 2});
  CHECK(repeat(Tensor::scalar(7, DType::Float64), {3}).to_vector() == std::vector<double>{7, 7, 7});
  CHECK(index_select(a, 0, i64({1, 1, 0})).to_vector() == std::vector<double>{3, 4, 3, 4, 1, 2});
  CHECK(index_select(a, 1, i64({1})).to_vector() == std::vector<double>{2, 4});
  CHECK(index_select(a, 0, i64({})).shape() == Shape{0, 2});
  CHECK(index_select(transpose(a, 0, 1), 0, i64({0})).to_vector() == std::vector<double>{1, 3});
  CHECK(index_select(Tensor::from_vector({1, 2, 3}, {3}, DType::Float16), 0, i64({2, 0})).to_vector() ==
        std::vector<double>{3, 1});
  CHECK(index_add({3, 2}, 0, i64({0, 2, 0}), f64({1, 2, 3, 4, 5, 6}, {3, 2})).to_vector() ==
        std::vector<double>{6, 8, 0, 0, 3, 4});
  CHECK(flip(a, {1}).to_vector() == std::vector<double>{2, 1, 4, 3});
  CHECK(flip(a, {0, 1}).to_vector() == std::vector<double>{4, 3, 2, 1});
  CHECK(flip(transpose(a, 0, 1), {0}).to_vector() == std::vector<double>{2, 4, 1, 3});
  CHECK(flip(Tensor::zeros({0, 2}), {0}).shape() == Shape{0, 2});
  CHECK(flip(a, {}).to_vector() == a.to_vector());
  CHECK(pad(f64({1, 2}, {2}), {1, 2}).to_vector() == std::vector<double>{0, 1, 2, 0, 0});
  CHECK(pad(f64({1, 2, 3}, {3}), {-1, 1}).to_vector() == std::vector<double>{2, 3, 0});
  CHECK(pad(a, {1, 0, 0, 1}).to_vector() == std::vector<double>{0, 1, 2, 0, 3, 4, 0, 0, 0});
  CHECK(pad(a, {0, -1, -1, 0}).to_vector() == std::vector<double>{3});
  CHECK(pad(a, {}).to_vector() == a.to_vector());
}

TEST_CASE("shape: gradcheck and gradgradcheck of every op, contiguous and strided inputs") {
  for (const ShapeCase& c : shape_cases()) {
    TensorFunction fn = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{c.fn(in[0])}; };
    check_gradients(c.name, fn, {leaf(sample({2, 3, 4}, 1))});
    check_gradients(std::string(c.name) + " strided", fn, {leaf(spread(sample({2, 3, 4}, 2)))});
  }
  // cat, stack and index_add with several differentiable inputs of different shapes.
  TensorFunction cat3 = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{cat({in[0], in[1], in[0]}, 0)}; };
  check_gradients("cat of two leaves", cat3, {leaf(sample({1, 3}, 3)), leaf(spread(sample({2, 3}, 4)))});
  TensorFunction stack2 = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{stack({in[0], in[1]}, 1)}; };
  check_gradients("stack of two leaves", stack2, {leaf(sample({2, 3}, 5)), leaf(sample({2, 3}, 6))});
  // A float32 round trip: the finite differences need a float32-sized step and tolerance.
  TensorFunction cast_fn = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{cast(mul(cast(in[0], DType::Float32), 2.0), DType::Float64)};
  };
  GradcheckOptions loose;
  loose.eps = 1e-3;
  loose.atol = 1e-4;
  CHECK_GRADCHECK(gradcheck("cast round trip", cast_fn, {leaf(sample({2, 3}, 7))}, loose));
}

TEST_CASE("shape: size-1, 0-d and empty inputs") {
  TensorFunction select_fn = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{select(in[0], 0, 0)}; };
  check_gradients("select to 0-d", select_fn, {leaf(sample({1}, 8))});
  TensorFunction from_scalar = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{cat({reshape(in[0], {1}), expand(in[0], {2}), repeat(in[0], {2}), unsqueeze(in[0], 0),
                                    flatten(in[0]), stack({in[0], in[0]}, 0)},
                                   0)};
  };
  check_gradients("0-d through views", from_scalar, {leaf(sample({}, 9))});
  TensorFunction size1 = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{flip(pad(squeeze(permute(in[0], {2, 0, 1}), 1), {1, 0}), {0})};
  };
  check_gradients("size-1 dims", size1, {leaf(sample({1, 1, 3}, 10))});
  // Empty inputs: every op runs, and backward gives an empty gradient of the input's shape.
  Tensor full = sample({2, 3, 4}, 11);
  std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> on_empty = {
      {"reshape", [](const Tensor& x) { return reshape(x, {-1, 8}); }},
      {"flatten", [](const Tensor& x) { return flatten(x, 1); }},
      {"permute", [](const Tensor& x) { return permute(x, {2, 0, 1}); }},
      {"narrow", [](const Tensor& x) { return narrow(x, 2, 1, 2); }},
      {"select", [](const Tensor& x) { return select(x, 2, 1); }},
      {"expand", [](const Tensor& x) { return expand(unsqueeze(x, 0), {3, 2, 0, 4}); }},
      {"squeeze", [](const Tensor& x) { return squeeze(narrow(x, 0, 1, 1), 0); }},
      {"contiguous", [](const Tensor& x) { return contiguous(transpose(x, 0, 2)); }},
      {"cat", [&](const Tensor& x) { return cat({x, full, x}, 1); }},
      {"stack", [](const Tensor& x) { return stack({x, x}, 1); }},
      {"repeat", [](const Tensor& x) { return repeat(x, {2, 1, 2, 1}); }},
      {"index_select", [](const Tensor& x) { return index_select(x, 2, i64({3, 0})); }},
      {"index_select of none", [](const Tensor& x) { return index_select(x, 0, i64({})); }},
      {"flip", [](const Tensor& x) { return flip(x, {0, 1, 2}); }},
      {"pad", [](const Tensor& x) { return pad(x, {1, 1, 1, 1}); }},
  };
  for (const auto& [name, fn] : on_empty) {
    CAPTURE(std::string(name));
    Tensor e = leaf(Tensor::zeros({2, 0, 4}, DType::Float64));
    Tensor y = fn(e);
    if (std::string(name) == "pad") CHECK(y.to_vector() == std::vector<double>(24, 0));
    if (std::string(name) == "cat") CHECK(y.shape() == Shape{2, 3, 4});
    CHECK(grad({sum(y)}, {e})[0].shape() == Shape{2, 0, 4});
  }
  Tensor e = Tensor::zeros({0, 3}, DType::Float64);
  CHECK(reshape(e, {3, 0, 5}).shape() == Shape{3, 0, 5});
  CHECK(index_select(e, 1, i64({2, 0})).shape() == Shape{0, 2});
  CHECK(index_add({0, 3}, 1, i64({2}), Tensor::zeros({0, 1}, DType::Float64)).shape() == Shape{0, 3});
  CHECK(pad(e, {1, 1, 2, 0}).to_vector() == std::vector<double>(10, 0));
  CHECK(stack({e, e}, 2).shape() == Shape{0, 3, 2});
}

TEST_CASE("shape: repeated indices accumulate in the gradient of index_select") {
  Tensor x = leaf(f64({1, 2, 3}, {3}));
  Tensor y = index_select(x, 0, i64({2, 0, 2, 2}));
  CHECK(y.to_vector() == std::vector<double>{3, 1, 3, 3});
  CHECK(grad({y}, {x}, {f64({1, 10, 100, 1000}, {4})})[0].to_vector() == std::vector<double>{10, 0, 1101});
}

TEST_CASE("shape: CUDA matches CPU for every op in float32 and float16, forward and backward") {
  SG_REQUIRE_CUDA();
  for (DType dtype : {DType::Float32, DType::Float16}) {
    CAPTURE(std::string(dtype_name(dtype)));
    // Data movement is exact; integer-valued upstream gradients keep the sums of the backward
    // (expand, repeat, index_add with repeated indices) exact too, in any order.
    for (const ShapeCase& c : shape_cases()) {
      for (int layout = 0; layout < 3; ++layout) {
        CAPTURE(std::string(c.name));
        CAPTURE(layout);
        // [2, 3, 4] as the cases expect; a strided copy; and a bigger odd size through a reshape.
        Tensor x = test::random_integers({2, 3, 4}, 10 + layout, -9, 9, dtype);
        Tensor xh = leaf(layout == 1 ? spread(x) : raw::clone(x));
        Tensor xc = leaf(layout == 1 ? spread(test::cuda(x)) : test::cuda(x));
        Tensor yh = c.fn(xh), yc = c.fn(xc);
        CHECK(yc.is_cuda());
        CHECK_PARITY(yc, yh, 0, 0);
        Tensor dy = test::random_integers(yh.shape(), 20 + layout, -5, 5, dtype);
        CHECK_PARITY(grad({yc}, {xc}, {test::cuda(dy)})[0], grad({yh}, {xh}, {dy})[0], 0, 0);
      }
    }
    // Large odd sizes and batch 1.
    Tensor big = test::random_integers({1000003}, 30, -50, 50, dtype), bigc = test::cuda(big);
    CHECK_PARITY(flip(bigc, {0}), flip(big, {0}), 0, 0);
    CHECK_PARITY(pad(bigc, {3, -5}), pad(big, {3, -5}), 0, 0);
    CHECK_PARITY(cat({bigc, narrow(bigc, 0, 7, 1000)}, 0), cat({big, narrow(big, 0, 7, 1000)}, 0), 0, 0);
    CHECK_PARITY(repeat(narrow(bigc, 0, 0, 1001), {3, 2}), repeat(narrow(big, 0, 0, 1001), {3, 2}), 0, 0);
    Tensor idx = test::random_integers({5001}, 31, 0, 1000002, DType::Int64);
    CHECK_PARITY(index_select(bigc, 0, idx), index_select(big, 0, idx), 0, 0);
    CHECK_PARITY(index_select(bigc, 0, test::cuda(idx)), index_select(big, 0, idx), 0, 0);
    Tensor src = test::random_integers({1, 5001, 3}, 32, -4, 4, dtype);
    Tensor dup = test::random_integers({5001}, 33, 0, 99, DType::Int64);  // many repeats
    CHECK_PARITY(index_add({1, 100, 3}, 1, dup, test::cuda(src)), index_add({1, 100, 3}, 1, dup, src), 0, 0);
    Tensor img = test::random_integers({1, 3, 37, 29}, 34, -9, 9, dtype), imgc = test::cuda(img);
    CHECK_PARITY(pad(imgc, {2, 1, -3, 4}), pad(img, {2, 1, -3, 4}), 0, 0);
    CHECK_PARITY(flip(permute(imgc, {0, 2, 3, 1}), {1, 2}), flip(permute(img, {0, 2, 3, 1}), {1, 2}), 0, 0);
    CHECK_PARITY(contiguous(permute(imgc, {3, 1, 0, 2})), contiguous(permute(img, {3, 1, 0, 2})), 0, 0);
    // Casts between the float dtypes round identically on both devices.
    Tensor r = sample({4097}, 35, -60000, 60000, DType::Float64);  // within float16's range
    for (DType to : {DType::Float16, DType::BFloat16, DType::Float32}) {
      CAPTURE(std::string(dtype_name(to)));
      CHECK_PARITY(cast(test::cuda(r), to), cast(r, to), 0, 0);
    }
    // Cast backward: the gradient is cast back to the input dtype.
    DType other = dtype == DType::Float32 ? DType::Float16 : DType::Float32;
    Tensor cx = sample({33, 7}, 37, -2, 2, dtype);
    Tensor cxh = leaf(raw::clone(cx)), cxc = leaf(test::cuda(cx));
    Tensor cyh = cast(cxh, other), cyc = cast(cxc, other);
    CHECK_PARITY(cyc, cyh, 0, 0);
    Tensor cdy = sample({33, 7}, 38, -1, 1, other);
    CHECK_PARITY(grad({cyc}, {cxc}, {test::cuda(cdy)})[0], grad({cyh}, {cxh}, {cdy})[0], 0, 0);
    // to_device round trip keeps values and routes the gradient back to the CPU.
    Tensor h = leaf(sample({3, 5}, 36, -1, 1, dtype));
    Tensor moved = to_device(h, Device::CUDA);
    CHECK(moved.is_cuda());
    Tensor gh = grad({sum(mul(to_device(moved, Device::CPU), 3.0))}, {h})[0];
    CHECK(gh.device() == Device::CPU);
    CHECK(gh.to_vector() == std::vector<double>(15, 3));
  }
}
