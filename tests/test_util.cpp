#include <algorithm>
#include "tests/test_util.h"

#include <cmath>
#include <iomanip>
#include <sstream>

namespace sg::test {

namespace {
// splitmix64: a tiny seeded generator for test data (independent of the engine's RNG under test).
uint64_t next(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

Tensor random_tensor(const Shape& shape, uint64_t seed, DType dtype, Device device, double lo, double hi) {
  std::vector<double> values(shape_numel(shape));
  uint64_t state = seed * 7919 + 17;
  for (double& v : values) v = lo + (hi - lo) * double(next(state) >> 11) / double(1ull << 53);
  return Tensor::from_vector(values, shape, dtype, device);
}

Tensor random_integers(const Shape& shape, uint64_t seed, int lo, int hi, DType dtype, Device device) {
  std::vector<double> values(shape_numel(shape));
  uint64_t state = seed * 104729 + 3;
  for (double& v : values) v = double(lo + int64_t(next(state) % uint64_t(hi - lo + 1)));
  return Tensor::from_vector(values, shape, dtype, device);
}

static CloseResult compare_impl(const Tensor& got, const Tensor& want, double atol, double rtol, bool to_max) {
  CloseResult r;
  if (got.shape() != want.shape()) {
    r.ok = false;
    r.message = str_cat("shape mismatch: got ", shape_str(got.shape()), ", want ", shape_str(want.shape()));
    return r;
  }
  std::vector<double> g = got.to_vector(), w = want.to_vector();
  double max_abs = 0;
  for (double v : w) max_abs = std::max(max_abs, std::fabs(v));
  double worst_excess = 0;
  int64_t worst = -1, bad = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    double tol = to_max ? atol * max_abs : atol + rtol * std::fabs(w[i]);
    double err = std::fabs(g[i] - w[i]);
    bool fine = std::isfinite(g[i]) && err <= tol;
    if (!std::isfinite(w[i])) fine = std::isnan(w[i]) ? std::isnan(g[i]) : g[i] == w[i];
    if (!fine) {
      ++bad;
      double excess = std::isfinite(err) ? err - tol : INFINITY;
      if (worst < 0 || excess > worst_excess) {
        worst_excess = excess;
        worst = int64_t(i);
      }
    }
  }
  if (bad == 0) return r;
  r.ok = false;
  std::ostringstream out;
  out << std::setprecision(10) << bad << " of " << g.size() << " elements differ (max |want| " << max_abs
      << "); worst at flat index " << worst << ": got " << g[worst] << ", want " << w[worst];
  out << "; first pairs:";
  for (size_t i = 0; i < std::min<size_t>(4, g.size()); ++i) out << " (" << g[i] << ", " << w[i] << ")";
  r.message = out.str();
  return r;
}

CloseResult compare(const Tensor& got, const Tensor& want, double atol, double rtol) {
  return compare_impl(got, want, atol, rtol, false);
}

CloseResult compare_to_max(const Tensor& got, const Tensor& want, double rel) {
  return compare_impl(got, want, rel, 0, true);
}

}  // namespace sg::test
