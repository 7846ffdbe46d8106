// Shared helpers of the test suite: GPU skips, seeded random tensors, closeness checks that report
// the worst element, and error-message assertions.
#pragma once
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "autograd/autograd.h"
#include "engine/tensor.h"

namespace sg::test {

std::string& fixtures_dir();
void record_skip(const std::string& reason);
size_t skipped_count();
void set_current_test(const char* name);

// Deterministic pseudo-random tensor (uniform in [lo, hi)) built on the CPU from `seed`.
Tensor random_tensor(const Shape& shape, uint64_t seed, DType dtype = DType::Float64, Device device = Device::CPU,
                     double lo = -1, double hi = 1);
// Integer-valued random tensor in [lo, hi]: products and sums stay exact in float32.
Tensor random_integers(const Shape& shape, uint64_t seed, int lo, int hi, DType dtype = DType::Float32,
                       Device device = Device::CPU);

struct CloseResult {
  bool ok = true;
  std::string message;  // worst element and a few pairs when not ok
};
// |got - want| <= atol + rtol * |want| elementwise; shapes must match; both must be finite.
CloseResult compare(const Tensor& got, const Tensor& want, double atol, double rtol);
// |got - want| <= rel * max|want| (the fixture rule: error relative to the tensor's magnitude).
CloseResult compare_to_max(const Tensor& got, const Tensor& want, double rel);

}  // namespace sg::test

#define SG_REQUIRE_CUDA()                                              \
  do {                                                                 \
    if (!::sg::cuda_available()) {                                     \
      ::sg::test::record_skip(::sg::cuda_unavailable_reason());        \
      return;                                                          \
    }                                                                  \
  } while (0)

#define CHECK_CLOSE(got, want, atol, rtol)                                        \
  do {                                                                            \
    auto result_ = ::sg::test::compare((got), (want), (atol), (rtol));            \
    CHECK_MESSAGE(result_.ok, result_.message);                                   \
  } while (0)

// The call must throw sg::Error whose message contains every given fragment.
#define CHECK_THROWS_WITH_ALL(expr, ...)                                          \
  do {                                                                            \
    std::string message_;                                                         \
    try {                                                                         \
      (void)(expr);                                                               \
    } catch (const ::sg::Error& e) {                                              \
      message_ = e.what();                                                        \
    }                                                                             \
    CHECK_MESSAGE(!message_.empty(), "expected an sg::Error from " #expr);        \
    for (const char* fragment_ : {__VA_ARGS__})                                   \
      CHECK_MESSAGE(message_.find(fragment_) != std::string::npos,                \
                    "message '", message_, "' lacks '", std::string(fragment_), "'");          \
  } while (0)

#define CHECK_GRADCHECK(call)                          \
  do {                                                 \
    auto gradcheck_result_ = (call);                   \
    CHECK_MESSAGE(gradcheck_result_.ok, gradcheck_result_.message); \
  } while (0)
