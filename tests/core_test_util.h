// Helpers shared by the core op tests (elementwise, reduce, shape, matmul): kink-free random
// inputs, non-contiguous copies, gradcheck+gradgradcheck in one call, and CUDA-vs-CPU parity.
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "tests/test_util.h"

namespace sg::test {

// A float64 CPU tensor of literal values.
inline Tensor f64(const std::vector<double>& v, const Shape& shape) { return Tensor::from_vector(v, shape, DType::Float64); }

// Uniform values in [lo, hi); when the range spans 0 they are kept at least 0.1 away from it, so a
// finite difference never straddles the kink of abs, sign, leaky_relu or a clamp bound at 0.
inline Tensor sample(const Shape& shape, uint64_t seed, double lo = -1, double hi = 1, DType dtype = DType::Float64,
                     Device device = Device::CPU) {
  std::vector<double> v = random_tensor(shape, seed, DType::Float64, Device::CPU, lo, hi).to_vector();
  if (lo < 0 && hi > 0)
    for (double& x : v)
      if (std::fabs(x) < 0.1) x += x < 0 ? -0.1 : 0.1;
  return Tensor::from_vector(v, shape, dtype, device);
}

// The same values in a non-contiguous layout: a view with every stride doubled into a buffer
// twice as large (no autograd history, so it can be made a leaf).
inline Tensor spread(const Tensor& x) {
  Tensor buffer = Tensor::zeros({std::max<int64_t>(2 * x.numel(), 1)}, x.dtype(), x.device());
  Shape strides = contiguous_strides(x.shape());
  for (int64_t& s : strides) s *= 2;
  Tensor view = buffer.as_strided(x.shape(), strides, 0);
  view.copy_(x);
  return view;
}

inline Tensor leaf(const Tensor& t) { return set_requires_grad(t); }

// First and second order finite-difference checks of f at the given inputs.
inline void check_gradients(const std::string& name, const TensorFunction& f, const std::vector<Tensor>& inputs,
                            bool second_order = true) {
  CAPTURE(name);
  CHECK_GRADCHECK(gradcheck(name, f, inputs));
  if (second_order) CHECK_GRADCHECK(gradgradcheck(name, f, inputs));
}

// A CUDA result against its CPU reference. Both are read back as float64; the reference must be
// finite and, unless zeros are the point, not all zero, so an op that writes nothing cannot pass.
inline void check_parity(const Tensor& got, const Tensor& want, double atol, double rtol, bool may_be_zero = false) {
  REQUIRE(got.defined());
  REQUIRE(want.defined());
  CHECK(got.dtype() == want.dtype());
  std::vector<double> w = want.to_vector();
  bool finite = std::all_of(w.begin(), w.end(), [](double v) { return std::isfinite(v); });
  bool nonzero = w.empty() || std::any_of(w.begin(), w.end(), [](double v) { return v != 0; });
  CHECK_MESSAGE(finite, "reference has non-finite values");
  CHECK_MESSAGE((nonzero || may_be_zero), "reference is all zero");
  CHECK_CLOSE(got, want, atol, rtol);
}

}  // namespace sg::test

// check_parity with the calling line in the failure report.
#define CHECK_PARITY(...)                          \
  do {                                             \
    INFO("CHECK_PARITY at line ", __LINE__);       \
    ::sg::test::check_parity(__VA_ARGS__);         \
  } while (0)

namespace sg::test {

// A copy of t on the CUDA device (raw, no autograd).
inline Tensor cuda(const Tensor& t) { return raw::to(t, t.dtype(), Device::CUDA); }

// Cast and device copy that keep nothing but the values: for comparing results.
inline Tensor values(const Tensor& t, DType dtype = DType::Float64) { return raw::to(t, dtype, Device::CPU); }

}  // namespace sg::test
