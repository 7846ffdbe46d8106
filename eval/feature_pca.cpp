#include "eval/feature_pca.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace sg::eval {

namespace {

constexpr int kAxes = 3;

// Channel vectors of every pixel: [N*H*W][C], from a [N, C, H, W] tensor.
std::vector<std::vector<double>> pixel_vectors(const Tensor& maps) {
  SG_CHECK(maps.dim() == 4 && is_floating(maps.dtype()), "feature_pca: expected floating maps [N, C, H, W], got ",
           shape_str(maps.shape()), " ", dtype_name(maps.dtype()));
  int64_t n = maps.size(0), c = maps.size(1), hw = maps.size(2) * maps.size(3);
  std::vector<double> values = maps.to_vector();
  std::vector<std::vector<double>> pixels(n * hw, std::vector<double>(c));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p) pixels[i * hw + p][ch] = values[(i * c + ch) * hw + p];
  return pixels;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

PcaProjection PcaProjection::fit(const Tensor& maps) {
  std::vector<std::vector<double>> pixels = pixel_vectors(maps);
  size_t c = pixels[0].size();
  SG_CHECK(c >= kAxes, "feature_pca: need at least ", kAxes, " channels, got ", c);
  PcaProjection pca;
  pca.mean.assign(c, 0);
  for (const auto& v : pixels)
    for (size_t k = 0; k < c; ++k) pca.mean[k] += v[k] / double(pixels.size());
  std::vector<double> cov(c * c, 0);
  for (auto& v : pixels) {
    for (size_t k = 0; k < c; ++k) v[k] -= pca.mean[k];
    for (size_t a = 0; a < c; ++a)
      for (size_t b = 0; b < c; ++b) cov[a * c + b] += v[a] * v[b];
  }
  // Leading eigenvectors by power iteration with deflation: three axes of a symmetric matrix of
  // at most a few hundred rows need nothing heavier. A fixed start keeps the colours reproducible.
  for (int axis = 0; axis < kAxes; ++axis) {
    std::vector<double> u(c), next(c);
    for (size_t k = 0; k < c; ++k) u[k] = 1.0 + 0.01 * double(k % 7) - 0.003 * double(axis * k % 5);
    for (int iter = 0; iter < 500; ++iter) {
      for (size_t a = 0; a < c; ++a) {
        next[a] = 0;
        for (size_t b = 0; b < c; ++b) next[a] += cov[a * c + b] * u[b];
      }
      for (const auto& prev : pca.axes) {
        double proj = dot(next, prev);
        for (size_t k = 0; k < c; ++k) next[k] -= proj * prev[k];
      }
      double norm = std::sqrt(dot(next, next));
      if (norm == 0) break;  // fewer than three directions carry variance
      for (size_t k = 0; k < c; ++k) next[k] /= norm;
      u.swap(next);
    }
    // Sign convention: the largest component is positive, so refits give the same colours.
    size_t big = 0;
    for (size_t k = 0; k < c; ++k) big = std::abs(u[k]) > std::abs(u[big]) ? k : big;
    if (u[big] < 0)
      for (double& x : u) x = -x;
    pca.axes.push_back(u);
  }
  for (const auto& axis : pca.axes) {
    std::vector<double> proj;
    proj.reserve(pixels.size());
    for (const auto& v : pixels) proj.push_back(dot(v, axis));
    std::sort(proj.begin(), proj.end());
    pca.lo.push_back(proj[size_t(0.01 * double(proj.size() - 1))]);
    pca.hi.push_back(proj[size_t(0.99 * double(proj.size() - 1))]);
  }
  return pca;
}

Tensor PcaProjection::to_rgb(const Tensor& maps) const {
  std::vector<std::vector<double>> pixels = pixel_vectors(maps);
  SG_CHECK(pixels[0].size() == mean.size(), "feature_pca: maps have ", pixels[0].size(),
           " channels, the projection was fitted on ", mean.size());
  int64_t n = maps.size(0), hw = maps.size(2) * maps.size(3);
  Tensor rgb = Tensor::empty({n, kAxes, maps.size(2), maps.size(3)}, DType::Float32);
  float* out = rgb.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < hw; ++p) {
      std::vector<double> v = pixels[i * hw + p];
      for (size_t k = 0; k < v.size(); ++k) v[k] -= mean[k];
      for (int a = 0; a < kAxes; ++a) {
        double t = (dot(v, axes[a]) - lo[a]) / std::max(hi[a] - lo[a], 1e-12);
        out[(i * kAxes + a) * hw + p] = float(std::clamp(t, 0.0, 1.0) * 2 - 1);
      }
    }
  return rgb;
}

}  // namespace sg::eval
