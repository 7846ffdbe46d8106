// Reductions (sum, mean, amax, amin, norm, sum_to): values against loops and hand-computed ones,
// gradcheck and gradgradcheck over chosen dims with keepdim, strided, size-1, 0-d and empty
// inputs, the tie rule of amax/amin, and CUDA-vs-CPU parity over leading, inner and all dims.
#include <cmath>
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

using Reduction = std::function<Tensor(const Tensor&, const std::vector<int64_t>&, bool)>;

struct ReductionCase {
  const char* name;
  Reduction fn;
  double init;
  std::function<double(double, double)> combine;  // accumulate one element
  std::function<double(double, int64_t)> finish;  // from the accumulator and the count
};

std::vector<ReductionCase> reduction_cases() {
  auto same = [](double acc, int64_t) { return acc; };
  return {
      {"sum", [](const Tensor& x, const std::vector<int64_t>& d, bool k) { return sum(x, d, k); }, 0,
       [](double a, double v) { return a + v; }, same},
      {"mean", [](const Tensor& x, const std::vector<int64_t>& d, bool k) { return mean(x, d, k); }, 0,
       [](double a, double v) { return a + v; }, [](double a, int64_t n) { return a / double(n); }},
      {"amax", [](const Tensor& x, const std::vector<int64_t>& d, bool k) { return amax(x, d, k); }, -INFINITY,
       [](double a, double v) { return std::max(a, v); }, same},
      {"amin", [](const Tensor& x, const std::vector<int64_t>& d, bool k) { return amin(x, d, k); }, INFINITY,
       [](double a, double v) { return std::min(a, v); }, same},
      {"norm", [](const Tensor& x, const std::vector<int64_t>& d, bool k) { return norm(x, d, k); }, 0,
       [](double a, double v) { return a + v * v; }, [](double a, int64_t) { return std::sqrt(a); }},
  };
}

// The reduction of a 3-D tensor by plain loops, in keepdim form.
Tensor reduce_reference(const ReductionCase& c, const Tensor& x, const std::vector<int64_t>& dims) {
  bool reduced[3] = {dims.empty(), dims.empty(), dims.empty()};
  for (int64_t d : dims) reduced[d < 0 ? d + 3 : d] = true;
  Shape in = x.shape(), out_shape(3);
  for (int d = 0; d < 3; ++d) out_shape[d] = reduced[d] ? 1 : in[d];
  std::vector<double> v = x.to_vector(), acc(shape_numel(out_shape), c.init);
  std::vector<int64_t> count(acc.size(), 0);
  for (int64_t i = 0; i < in[0]; ++i)
    for (int64_t j = 0; j < in[1]; ++j)
      for (int64_t k = 0; k < in[2]; ++k) {
        int64_t o = ((reduced[0] ? 0 : i) * out_shape[1] + (reduced[1] ? 0 : j)) * out_shape[2] + (reduced[2] ? 0 : k);
        acc[o] = c.combine(acc[o], v[(i * in[1] + j) * in[2] + k]);
        ++count[o];
      }
  for (size_t o = 0; o < acc.size(); ++o) acc[o] = c.finish(acc[o], count[o]);
  return Tensor::from_vector(acc, out_shape, DType::Float64);
}

const std::vector<std::vector<int64_t>> kDimSets = {{}, {0}, {1}, {2}, {0, 2}, {-1, -3}, {0, 1, 2}, {-2}};

}  // namespace

TEST_CASE("reduce: hand-computed values") {
  Tensor a = f64({1, -2, 3, 4, 5, -6}, {2, 3});
  CHECK(sum(a).item() == 5);
  CHECK(sum(a).dim() == 0);
  CHECK_CLOSE(sum(a, {0}), f64({5, 3, -3}, {3}), 0, 0);
  CHECK_CLOSE(sum(a, {1}), f64({2, 3}, {2}), 0, 0);
  CHECK_CLOSE(sum(a, {-1}, true), f64({2, 3}, {2, 1}), 0, 0);
  CHECK_CLOSE(sum(a, {0, 1}, true), f64({5}, {1, 1}), 0, 0);
  CHECK_CLOSE(mean(a, {1}), f64({2.0 / 3, 1}, {2}), 1e-16, 0);
  CHECK_CLOSE(mean(a, {0}, true), f64({2.5, 1.5, -1.5}, {1, 3}), 0, 0);
  CHECK(mean(a).item() == doctest::Approx(5.0 / 6));
  CHECK_CLOSE(amax(a, {0}), f64({4, 5, 3}, {3}), 0, 0);
  CHECK_CLOSE(amax(a, {1}), f64({3, 5}, {2}), 0, 0);
  CHECK(amax(a).item() == 5);
  CHECK_CLOSE(amin(a, {1}), f64({-2, -6}, {2}), 0, 0);
  CHECK(amin(a).item() == -6);
  CHECK_CLOSE(norm(a, {1}), f64({std::sqrt(14.0), std::sqrt(77.0)}, {2}), 0, 0);
  CHECK(norm(a).item() == std::sqrt(91.0));
  // Transposed and strided inputs reduce in their logical order.
  CHECK_CLOSE(sum(transpose(a, 0, 1), {1}), f64({5, 3, -3}, {3}), 0, 0);
  CHECK_CLOSE(amax(spread(a), {0}), f64({4, 5, 3}, {3}), 0, 0);
  // NaN wins an extremum (as torch).
  CHECK(std::isnan(amax(f64({1, NAN, 3}, {3})).item()));
  CHECK(std::isnan(amin(f64({NAN, 1, 3}, {3})).item()));
  // float16 and float32 CPU inputs keep their dtype.
  CHECK(sum(Tensor::ones({5}, DType::Float16)).dtype() == DType::Float16);
  CHECK(sum(Tensor::ones({5}, DType::Float16)).item() == 5);
  CHECK(amax(Tensor::arange(7, DType::BFloat16)).item() == 6);
}

TEST_CASE("reduce: every reduction against loops, over every set of dims, with and without keepdim") {
  Tensor x = sample({3, 4, 5}, 1, -2, 2);
  for (const ReductionCase& c : reduction_cases()) {
    for (const auto& dims : kDimSets) {
      for (bool keepdim : {false, true}) {
        CAPTURE(std::string(c.name));
        CAPTURE(shape_str(dims));
        CAPTURE(keepdim);
        Tensor want = reduce_reference(c, x, dims);
        Tensor got = c.fn(x, dims, keepdim);
        if (!keepdim) {
          Shape squeezed;
          for (int d = 0; d < 3; ++d) {
            bool r = dims.empty();
            for (int64_t k : dims) r = r || (k < 0 ? k + 3 : k) == d;
            if (!r) squeezed.push_back(x.shape()[d]);
          }
          want = raw::reshape(want, squeezed);
        }
        CHECK_CLOSE(got, want, 1e-14, 1e-14);  // float64; mean multiplies by 1/n where the loop divides
        CHECK_CLOSE(c.fn(spread(x), dims, keepdim), got, 0, 0);
      }
    }
  }
}

TEST_CASE("reduce: views are read in place and give what their contiguous copies give") {
  Tensor base = sample({4, 6, 5}, 3, -2, 2);
  const Tensor views[] = {raw::permute(base, {2, 0, 1}), raw::narrow(raw::transpose(base, 0, 2), 1, 1, 4),
                          raw::expand(raw::narrow(base, 1, 2, 1), {4, 3, 5}), test::spread(base)};
  for (const Tensor& v : views)
    for (const auto& dims : kDimSets)
      for (const ReductionCase& c : reduction_cases()) {
        CAPTURE(shape_str(v.shape()));
        CAPTURE(shape_str(v.strides()));
        CAPTURE(shape_str(dims));
        CAPTURE(std::string(c.name));
        // The same elements in the same order: bit for bit.
        CHECK_CLOSE(c.fn(v, dims, false), c.fn(raw::contiguous(v), dims, false), 0, 0);
      }
}

TEST_CASE("reduce: gradcheck and gradgradcheck over chosen dims, strided, size-1 and 0-d inputs") {
  for (const ReductionCase& c : reduction_cases()) {
    for (std::vector<int64_t> dims : {std::vector<int64_t>{}, {1}, {0, 2}, {-1}}) {
      for (bool keepdim : {false, true}) {
        TensorFunction f = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{c.fn(in[0], dims, keepdim)}; };
        std::string label = std::string(c.name) + " dims " + shape_str(dims) + (keepdim ? " keepdim" : "");
        check_gradients(label, f, {leaf(sample({2, 3, 4}, 2))});
      }
    }
    TensorFunction over_1 = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{c.fn(in[0], {1}, false)}; };
    check_gradients(std::string(c.name) + " strided", over_1, {leaf(spread(sample({3, 4}, 3)))});
    Tensor transposed = leaf(raw::transpose(sample({4, 3}, 4), 0, 1));
    check_gradients(std::string(c.name) + " transposed", over_1, {transposed});
    check_gradients(std::string(c.name) + " size-1", over_1, {leaf(sample({1, 1, 3}, 5))});
    TensorFunction over_0 = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{c.fn(in[0], {0}, true)}; };
    check_gradients(std::string(c.name) + " size-1 dim 0", over_0, {leaf(sample({1, 3}, 6))});
    // A 0-d input reduces to itself, over no dims or over dim 0 (as torch allows).
    TensorFunction all = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{c.fn(in[0], {}, false)}; };
    check_gradients(std::string(c.name) + " 0-d", all, {leaf(sample({}, 7))});
    TensorFunction dim0 = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{c.fn(in[0], {0}, false)}; };
    check_gradients(std::string(c.name) + " 0-d over dim 0", dim0, {leaf(sample({}, 8))});
    Tensor s = f64({-2.5}, {});
    CHECK(c.fn(s, {}, false).dim() == 0);
    CHECK(c.fn(s, {-1}, true).dim() == 0);
    CHECK(c.fn(s, {0}, false).item() == doctest::Approx(c.finish(c.combine(c.init, -2.5), 1)));
  }
}

TEST_CASE("reduce: empty dims") {
  Tensor e = leaf(Tensor::zeros({0, 3}, DType::Float64));
  // Reducing an empty dim: a sum is 0, and there is nothing to take an extremum or a mean of.
  CHECK_CLOSE(sum(e, {0}), Tensor::zeros({3}, DType::Float64), 0, 0);
  CHECK(sum(e).item() == 0);
  CHECK(norm(e, {0}).to_vector() == std::vector<double>{0, 0, 0});
  CHECK_THROWS_WITH_ALL(amax(e, {0}), "amax", "empty dim", "[0, 3]");
  CHECK_THROWS_WITH_ALL(amin(e), "amin", "empty dim");
  CHECK_THROWS_WITH_ALL(mean(e, {0}), "mean", "empty dim");
  // Reducing a non-empty dim of an empty tensor: an empty result, for every reduction.
  for (const ReductionCase& c : reduction_cases()) {
    CAPTURE(std::string(c.name));
    CHECK(c.fn(e, {1}, false).shape() == Shape{0});
    CHECK(c.fn(e, {1}, true).shape() == Shape{0, 1});
    CHECK(c.fn(Tensor::zeros({2, 0, 3}), {2}, false).shape() == Shape{2, 0});
  }
  CHECK(grad({sum(sum(e, {1}))}, {e})[0].shape() == Shape{0, 3});
  CHECK(grad({sum(e)}, {e})[0].shape() == Shape{0, 3});
  CHECK(grad({sum(amax(e, {1}))}, {e})[0].shape() == Shape{0, 3});
}

TEST_CASE("reduce: amax and amin share the gradient evenly among tied extrema") {
  Tensor x = leaf(f64({3, 1, 3}, {3}));
  CHECK_CLOSE(grad({amax(x)}, {x})[0], f64({0.5, 0, 0.5}, {3}), 0, 0);
  Tensor y = leaf(f64({1, 1, 2, 0, 7, 7, 7, 0}, {4, 2}));
  CHECK_CLOSE(grad({sum(amax(y, {1}))}, {y})[0], f64({0.5, 0.5, 1, 0, 0.5, 0.5, 1, 0}, {4, 2}), 0, 0);
  CHECK_CLOSE(grad({sum(amax(y, {0}))}, {y})[0], f64({0, 0, 0, 0, 0.5, 1, 0.5, 0}, {4, 2}), 0, 0);
  CHECK_CLOSE(grad({sum(amin(y, {1}))}, {y})[0], f64({0.5, 0.5, 0, 1, 0.5, 0.5, 0, 1}, {4, 2}), 0, 0);
  Tensor z = leaf(f64({2, 0, 0, 5}, {4}));
  CHECK_CLOSE(grad({amin(z)}, {z})[0], f64({0, 0.5, 0.5, 0}, {4}), 0, 0);
  // With an upstream gradient and keepdim.
  Tensor g = f64({2, -4}, {2, 1});
  Tensor w = leaf(f64({5, 5, 1, 9, 9, 9}, {2, 3}));
  CHECK_CLOSE(grad({amax(w, {1}, true)}, {w}, {g})[0], f64({1, 1, 0, -4.0 / 3, -4.0 / 3, -4.0 / 3}, {2, 3}), 1e-15, 0);
}

TEST_CASE("reduce: float16 amax shares its gradient among more ties than float16 can count") {
  Tensor x = leaf(Tensor::ones({70000}, DType::Float16));
  std::vector<double> g = grad({amax(x)}, {x})[0].to_vector();
  double want = half_to_float(float_to_half(1.0f / 70000));  // a float16 subnormal, not 1/inf = 0
  CHECK(want > 0);
  CHECK(g[0] == want);
  CHECK(g[69999] == want);
}

TEST_CASE("reduce: the norm of a zero vector has a zero gradient") {
  // sqrt'(0) is infinite, but the norm's subgradient at 0 is 0 (as torch): no NaN.
  Tensor x = leaf(f64({0, 0, 0, 3, 0, 4}, {2, 3}));
  Tensor g = grad({sum(norm(x, {1}))}, {x})[0];
  CHECK_CLOSE(g, f64({0, 0, 0, 0.6, 0, 0.8}, {2, 3}), 1e-16, 0);
  Tensor z = leaf(Tensor::zeros({3}, DType::Float64));
  CHECK_CLOSE(grad({norm(z)}, {z})[0], Tensor::zeros({3}, DType::Float64), 0, 0);
}

TEST_CASE("reduce: sum_to undoes broadcasting") {
  Tensor g = sample({2, 3, 4}, 9);
  CHECK(sum_to(g, {2, 3, 4}).same(g));
  CHECK_CLOSE(sum_to(g, {3, 1}), reshape(sum(g, {0, 2}), {3, 1}), 1e-15, 0);
}

TEST_CASE("reduce: sum_to more shapes") {
  Tensor g = sample({2, 3, 4}, 10);
  CHECK_CLOSE(sum_to(g, {1, 4}), reshape(sum(g, {0, 1}), {1, 4}), 1e-15, 0);
  CHECK_CLOSE(sum_to(g, {}), sum(g), 1e-15, 0);
  CHECK_CLOSE(sum_to(g, {2, 1, 1}), sum(g, {1, 2}, true), 1e-15, 0);
  CHECK_CLOSE(sum_to(g, {4}), sum(g, {0, 1}), 1e-15, 0);
  CHECK_THROWS_WITH_ALL(sum_to(g, {1, 2, 3, 4}), "sum_to", "[2, 3, 4]", "[1, 2, 3, 4]");
  for (Shape target : {Shape{3, 1}, Shape{}, Shape{2, 1, 4}, Shape{4}}) {
    TensorFunction f = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{sum_to(in[0], target)}; };
    check_gradients("sum_to " + shape_str(target), f, {leaf(sample({2, 3, 4}, 11))});
  }
}

TEST_CASE("reduce: CUDA matches CPU over leading, inner and all dims, float32 and float16") {
  SG_REQUIRE_CUDA();
  for (DType dtype : {DType::Float32, DType::Float16}) {
    CAPTURE(std::string(dtype_name(dtype)));
    bool f32 = dtype == DType::Float32;
    // Integer-valued inputs keep every partial sum exact in float (the accumulator on both
    // devices), so results must agree bit for bit whatever the summation order. float16 takes
    // values in [-1, 1] so that sums of squares stay below its largest finite value.
    int range = f32 ? 3 : 1;
    struct Case {
      Shape shape;
      std::vector<int64_t> dims;
    };
    const Case cases[] = {
        {{1000003}, {}},             // one long row: split over blocks, then a second pass
        {{6, 130, 9, 7}, {0}},       // a leading dim: many short rows (one thread per row)
        {{6, 130, 9, 7}, {3}},       // the innermost dim
        {{6, 130, 9, 7}, {0, 2, 3}}, // all but a middle dim: read in place, runs of 9 * 7
        {{40, 5000}, {0}},           // the unit-stride dim kept, many outputs: one thread per column
        {{37, 4100, 3}, {0, 2}},     // kept dim of stride 3 between two reduced ones
        {{6, 130, 9, 7}, {1}},       // a middle dim of 130: one block per row
        {{6, 130, 9, 7}, {}},        // all dims
        {{3, 100003}, {1}},          // few long rows: split path
        {{1100, 300}, {-1}},         // many long rows: one block each
        {{70001, 40}, {1}},          // more rows than one grid dimension holds
        {{70001, 5}, {1}},           // as many short rows
        {{1, 1, 33}, {2}},           // batch 1
        {{5, 0, 3}, {1}},            // an empty reduced dim
        {{0, 4}, {1}},               // no rows at all
    };
    for (const Case& c : cases) {
      for (const ReductionCase& r : reduction_cases()) {
        CAPTURE(shape_str(c.shape));
        CAPTURE(shape_str(c.dims));
        CAPTURE(std::string(r.name));
        bool empty_reduce = shape_numel(c.shape) == 0 && c.shape[1] == 0;
        if (empty_reduce && (std::string(r.name) != "sum" && std::string(r.name) != "norm")) continue;
        int64_t reduced_count = 1;
        for (int d = 0; d < int(c.shape.size()); ++d) {
          bool r_d = c.dims.empty();
          for (int64_t k : c.dims) r_d = r_d || (k < 0 ? k + int64_t(c.shape.size()) : k) == d;
          if (r_d) reduced_count *= c.shape[d];
        }
        // A float16 sum of up to reduced_count squares of 1 must stay finite.
        if (!f32 && std::string(r.name) == "norm" && reduced_count > 65504) continue;
        Tensor x = test::random_integers(c.shape, 100 + c.shape.size(), -range, range, dtype);
        Tensor xh = leaf(raw::clone(x)), xc = leaf(test::cuda(x));
        Tensor yh = r.fn(xh, c.dims, false), yc = r.fn(xc, c.dims, false);
        CHECK(yc.is_cuda());
        CHECK_PARITY(yc, yh, 0, 0, true);
        if (yh.numel() == 0 || empty_reduce) continue;
        Tensor dy = sample(yh.shape(), 200, -1, 1, dtype);
        Tensor gh = grad({yh}, {xh}, {dy})[0], gc = grad({yc}, {xc}, {test::cuda(dy)})[0];
        // Gradients are elementwise ops on the same values: equal, up to the norm's division
        // (float32 on both, but a float16 quotient may round either side of a tie).
        double tol = std::string(r.name) == "norm" && !f32 ? 1e-3 : 0;
        CHECK_PARITY(gc, gh, tol, tol, true);
      }
    }
    // Random (non-integer) values on a strided input: order-dependent rounding only, relative to
    // the magnitude of the terms summed.
    Tensor x = sample({257, 33}, 300, -1, 1, dtype);
    Tensor xs = test::spread(x), xsc = test::spread(test::cuda(x));
    // float32: up to 8481 terms of magnitude <= 1 summed in another order (the host's sequential
    // sum is off by ~3e-5 here); float16: the two float sums may round to neighbouring halves.
    double atol = f32 ? 1e-4 : 2e-2, rtol = f32 ? 1e-5 : 2e-2;
    for (std::vector<int64_t> dims : {std::vector<int64_t>{0}, {1}, {}}) {
      CAPTURE(shape_str(dims));
      CHECK_PARITY(sum(xsc, dims), sum(xs, dims), atol, rtol);
      CHECK_PARITY(mean(xsc, dims), mean(xs, dims), atol, rtol);
      CHECK_PARITY(norm(xsc, dims), norm(xs, dims), atol, rtol);
      CHECK_PARITY(amax(xsc, dims), amax(xs, dims), 0, 0);
      CHECK_PARITY(amin(xsc, dims), amin(xs, dims), 0, 0);
    }
    // The extremum of a long row of random values, and sum_to of a broadcast gradient.
    Tensor big = sample({1000003}, 301, -1, 1, dtype);
    CHECK_PARITY(amax(test::cuda(big)), amax(big), 0, 0);
    CHECK_PARITY(amin(test::cuda(big), {0}, true), amin(big, {0}, true), 0, 0);
    Tensor g = test::random_integers({7, 5, 33}, 302, -range, range, dtype);
    CHECK_PARITY(sum_to(test::cuda(g), {5, 1}), sum_to(g, {5, 1}), 0, 0);
  }
}
