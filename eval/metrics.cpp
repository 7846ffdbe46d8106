#include "eval/metrics.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "engine/dtype.h"
#include "engine/error.h"
#include "engine/safetensors.h"

extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                        double* work, const int* lwork, int* iwork, const int* liwork, int* info);

namespace sg::eval {

namespace {

// Rows of an [N, d] floating tensor as contiguous float64 values on the CPU.
std::vector<double> rows_f64(const Tensor& x, const char* what, int64_t* n, int64_t* d) {
  SG_CHECK(x.dim() == 2 && is_floating(x.dtype()), what, ": expected floating features [N, d], got ", shape_str(x.shape()),
           " ", dtype_name(x.dtype()));
  *n = x.size(0);
  *d = x.size(1);
  return x.to_vector();
}

// Eigenvalues (ascending) and eigenvectors (row j of `vectors` is the j-th) of a symmetric n x n.
void symmetric_eigen(std::vector<double> a, int n, std::vector<double>& values, std::vector<double>& vectors) {
  values.assign(size_t(n), 0);
  int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0;
  const char jobz = 'V', uplo = 'U';
  dsyevd_(&jobz, &uplo, &n, a.data(), &n, values.data(), &work_query, &lwork, &iwork_query, &liwork, &info);
  SG_CHECK(info == 0, "metrics: LAPACK dsyevd workspace query failed (info ", info, ")");
  lwork = int(work_query);
  liwork = iwork_query;
  std::vector<double> work(size_t(std::max(lwork, 1)));
  std::vector<int> iwork(size_t(std::max(liwork, 1)));
  dsyevd_(&jobz, &uplo, &n, a.data(), &n, values.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  SG_CHECK(info == 0, "metrics: LAPACK dsyevd did not converge (info ", info, ") on a ", n, "x", n, " matrix");
  // Column-major eigenvector columns are row-major rows.
  vectors = std::move(a);
}

// Principal square root of a symmetric positive semi-definite matrix; tiny negative eigenvalues
// (rounding) are treated as 0.
std::vector<double> sqrt_psd(const std::vector<double>& a, int n) {
  std::vector<double> values, vectors;
  symmetric_eigen(a, n, values, vectors);
  // sqrt(A) = E^T diag(sqrt(l)) E = H^T H with H = diag(l^(1/4)) E.
  for (int j = 0; j < n; ++j) {
    double s = std::pow(std::max(values[size_t(j)], 0.0), 0.25);
    for (int k = 0; k < n; ++k) vectors[size_t(j) * n + k] *= s;
  }
  std::vector<double> out(size_t(n) * n);
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, n, 1.0, vectors.data(), n, vectors.data(), n, 0.0,
              out.data(), n);
  return out;
}

double round_to_half(double v) { return double(half_to_float(float_to_half(float(v)))); }

// Distances between rows of a [na, d] and b [nb, d] (float64, row-major), each rounded to
// float16; returned row-major [na, nb]. |a|^2 + |b|^2 - 2 a.b through one GEMM, in float64.
std::vector<double> half_distances(const std::vector<double>& a, int64_t na, const std::vector<double>& b, int64_t nb,
                                   int64_t d) {
  std::vector<double> dots(size_t(na * nb));
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(na), int(nb), int(d), 1.0, a.data(), int(d), b.data(), int(d),
              0.0, dots.data(), int(nb));
  auto norms = [d](const std::vector<double>& x, int64_t n) {
    std::vector<double> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      out[size_t(i)] = std::inner_product(x.begin() + i * d, x.begin() + (i + 1) * d, x.begin() + i * d, 0.0);
    return out;
  };
  std::vector<double> a2 = norms(a, na), b2 = norms(b, nb);
  for (int64_t i = 0; i < na; ++i)
    for (int64_t j = 0; j < nb; ++j) {
      double& v = dots[size_t(i * nb + j)];
      v = round_to_half(std::sqrt(std::max(a2[size_t(i)] + b2[size_t(j)] - 2 * v, 0.0)));
    }
  return dots;
}

// Fraction of `probes` rows that fall within the k-NN radius of at least one `manifold` row.
double manifold_coverage(const std::vector<double>& manifold, int64_t nm, const std::vector<double>& probes, int64_t np,
                         int64_t d, int nhood_size) {
  SG_CHECK(nm > nhood_size, "precision_recall: need more than ", nhood_size, " features per set, got ", nm);
  const int64_t block = 4096;  // rows per distance block, to bound memory
  std::vector<double> radius(static_cast<size_t>(nm));
  for (int64_t start = 0; start < nm; start += block) {
    int64_t rows = std::min(block, nm - start);
    std::vector<double> part(manifold.begin() + start * d, manifold.begin() + (start + rows) * d);
    std::vector<double> dist = half_distances(part, rows, manifold, nm, d);
    for (int64_t i = 0; i < rows; ++i) {
      // The (k+1)-th smallest: the point itself is at distance 0.
      auto row = dist.begin() + i * nm;
      std::nth_element(row, row + nhood_size, row + nm);
      radius[size_t(start + i)] = row[nhood_size];
    }
  }
  int64_t covered = 0;
  for (int64_t start = 0; start < np; start += block) {
    int64_t rows = std::min(block, np - start);
    std::vector<double> part(probes.begin() + start * d, probes.begin() + (start + rows) * d);
    std::vector<double> dist = half_distances(part, rows, manifold, nm, d);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < nm; ++j)
        if (dist[size_t(i * nm + j)] <= radius[size_t(j)]) {
          ++covered;
          break;
        }
  }
  // The official mean runs over a float32 tensor of 0/1 predictions.
  return double(float(covered) / float(np));
}

}  // namespace

FeatureStats::FeatureStats(int64_t dim, bool capture_all)
    : dim_(dim), capture_all_(capture_all), sum_(size_t(dim), 0), sum_outer_(size_t(dim * dim), 0) {
  SG_CHECK(dim > 0, "FeatureStats: feature dimension must be positive, got ", dim);
}

void FeatureStats::append(const Tensor& features) {
  int64_t n = 0, d = 0;
  std::vector<double> x = rows_f64(features, "FeatureStats", &n, &d);
  SG_CHECK(d == dim_, "FeatureStats: features have ", d, " dimensions, the statistics ", dim_);
  if (n == 0) return;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < d; ++k) sum_[size_t(k)] += x[size_t(i * d + k)];
  // Upper triangle of x^T x; covariance() mirrors it.
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, int(d), int(n), 1.0, x.data(), int(d), 1.0, sum_outer_.data(), int(d));
  if (capture_all_)
    for (double v : x) rows_.push_back(float(v));
  count_ += n;
}

std::vector<double> FeatureStats::mean() const {
  SG_CHECK(count_ > 0, "FeatureStats: no features accumulated");
  std::vector<double> m(sum_);
  for (double& v : m) v /= double(count_);
  return m;
}

std::vector<double> FeatureStats::covariance(int ddof) const {
  SG_CHECK(ddof == 0 || ddof == 1, "FeatureStats: ddof must be 0 or 1, got ", ddof);
  SG_CHECK(count_ > ddof, "FeatureStats: ", count_, " features are too few for a covariance");
  std::vector<double> m = mean();
  double scale = double(count_) / double(count_ - ddof);
  std::vector<double> cov(size_t(dim_ * dim_));
  for (int64_t a = 0; a < dim_; ++a)
    for (int64_t b = a; b < dim_; ++b) {
      double v = sum_outer_[size_t(a * dim_ + b)] / double(count_) - m[size_t(a)] * m[size_t(b)];
      cov[size_t(a * dim_ + b)] = cov[size_t(b * dim_ + a)] = v * scale;
    }
  return cov;
}

Tensor FeatureStats::all() const {
  SG_CHECK(capture_all_, "FeatureStats: rows were not captured");
  Tensor out = Tensor::empty({count_, dim_}, DType::Float32);
  std::copy(rows_.begin(), rows_.end(), out.data<float>());
  return out;
}

void FeatureStats::save(const std::string& path, const std::string& description) const {
  auto vec = [](const std::vector<double>& v, const Shape& shape) {
    return Tensor::from_vector(v, shape, DType::Float64);
  };
  std::map<std::string, Tensor> tensors = {{"sum", vec(sum_, {dim_})}, {"sum_outer", vec(sum_outer_, {dim_, dim_})}};
  if (capture_all_) tensors["rows"] = all();
  save_safetensors(path, tensors,
                   {{"format", "sg-feature-stats-1"}, {"count", std::to_string(count_)}, {"description", description}});
}

FeatureStats FeatureStats::load(const std::string& path) {
  SafetensorsFile file = load_safetensors(path);
  SG_CHECK(file.metadata.count("format") && file.metadata.at("format") == "sg-feature-stats-1", path,
           " is not a feature statistics file of this engine");
  const Tensor& sum = file.at("sum");
  FeatureStats stats(sum.size(0), file.has("rows"));
  stats.count_ = std::stoll(file.metadata.at("count"));
  stats.sum_ = sum.to_vector();
  stats.sum_outer_ = file.at("sum_outer").to_vector();
  if (stats.capture_all_) {
    std::vector<double> rows = file.at("rows").to_vector();
    stats.rows_.assign(rows.begin(), rows.end());
  }
  return stats;
}

double frechet_distance(const std::vector<double>& mean_a, const std::vector<double>& cov_a,
                        const std::vector<double>& mean_b, const std::vector<double>& cov_b) {
  size_t d = mean_a.size();
  SG_CHECK(mean_b.size() == d && cov_a.size() == d * d && cov_b.size() == d * d,
           "frechet_distance: mismatched statistics (means ", d, " and ", mean_b.size(), ")");
  double m = 0, trace = 0;
  for (size_t k = 0; k < d; ++k) {
    m += (mean_a[k] - mean_b[k]) * (mean_a[k] - mean_b[k]);
    trace += cov_a[k * d + k] + cov_b[k * d + k];
  }
  int n = int(d);
  std::vector<double> root_a = sqrt_psd(cov_a, n), tmp(d * d), inner(d * d);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, root_a.data(), n, cov_b.data(), n, 0.0, tmp.data(), n);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, tmp.data(), n, root_a.data(), n, 0.0, inner.data(), n);
  for (size_t a = 0; a < d; ++a)
    for (size_t b = a + 1; b < d; ++b) inner[a * d + b] = inner[b * d + a] = 0.5 * (inner[a * d + b] + inner[b * d + a]);
  std::vector<double> values, vectors;
  symmetric_eigen(inner, n, values, vectors);
  double trace_root = 0;
  for (double v : values) trace_root += std::sqrt(std::max(v, 0.0));
  return m + trace - 2 * trace_root;
}

double fid_from_stats(const FeatureStats& real, const FeatureStats& gen, int ddof) {
  return frechet_distance(gen.mean(), gen.covariance(ddof), real.mean(), real.covariance(ddof));
}

double kernel_inception_distance(const Tensor& real, const Tensor& gen, int num_subsets, int64_t max_subset_size,
                                 uint64_t seed) {
  int64_t nr = 0, ng = 0, d = 0, dg = 0;
  std::vector<double> r = rows_f64(real, "kernel_inception_distance", &nr, &d);
  std::vector<double> g = rows_f64(gen, "kernel_inception_distance", &ng, &dg);
  SG_CHECK(d == dg, "kernel_inception_distance: real features have ", d, " dimensions, generated ", dg);
  int64_t m = std::min({nr, ng, max_subset_size});
  SG_CHECK(m >= 2 && num_subsets > 0, "kernel_inception_distance: need at least 2 features per set and 1 subset");
  std::mt19937_64 rng(seed);
  auto subset = [&](const std::vector<double>& x, int64_t n) {
    std::vector<int64_t> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    for (int64_t i = 0; i < m; ++i) std::swap(idx[size_t(i)], idx[size_t(i + int64_t(rng() % uint64_t(n - i)))]);
    std::vector<double> out(size_t(m * d));
    for (int64_t i = 0; i < m; ++i) std::copy(x.begin() + idx[size_t(i)] * d, x.begin() + (idx[size_t(i)] + 1) * d, out.begin() + i * d);
    return out;
  };
  // Sum of (x_i . y_j / d + 1)^3 over all pairs, and over the diagonal when asked.
  auto kernel_sum = [&](const std::vector<double>& x, const std::vector<double>& y, double* diagonal) {
    std::vector<double> dots(size_t(m * m));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(m), int(d), 1.0 / double(d), x.data(), int(d),
                y.data(), int(d), 0.0, dots.data(), int(m));
    double total = 0;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < m; ++j) {
        double k = std::pow(dots[size_t(i * m + j)] + 1, 3);
        total += k;
        if (diagonal && i == j) *diagonal += k;
      }
    return total;
  };
  double t = 0;
  for (int s = 0; s < num_subsets; ++s) {
    std::vector<double> x = subset(g, ng), y = subset(r, nr);
    double diagonal = 0;
    double a = kernel_sum(x, x, &diagonal) + kernel_sum(y, y, &diagonal);
    double b = kernel_sum(x, y, nullptr);
    t += (a - diagonal) / double(m - 1) - b * 2 / double(m);
  }
  return t / num_subsets / double(m);
}

PrecisionRecall precision_recall(const Tensor& real, const Tensor& gen, int nhood_size) {
  int64_t nr = 0, ng = 0, d = 0, dg = 0;
  std::vector<double> r = rows_f64(real, "precision_recall", &nr, &d);
  std::vector<double> g = rows_f64(gen, "precision_recall", &ng, &dg);
  SG_CHECK(d == dg, "precision_recall: real features have ", d, " dimensions, generated ", dg);
  // The official code moves the features to float16 before anything else.
  for (double& v : r) v = round_to_half(v);
  for (double& v : g) v = round_to_half(v);
  PrecisionRecall pr;
  pr.precision = manifold_coverage(r, nr, g, ng, d, nhood_size);
  pr.recall = manifold_coverage(g, ng, r, nr, d, nhood_size);
  return pr;
}

InceptionScore inception_score(const Tensor& probs, int num_splits) {
  int64_t n = 0, c = 0;
  std::vector<double> p = rows_f64(probs, "inception_score", &n, &c);
  SG_CHECK(num_splits > 0 && n >= num_splits, "inception_score: need at least ", num_splits, " rows, got ", n);
  std::vector<double> scores;
  for (int s = 0; s < num_splits; ++s) {
    int64_t begin = s * n / num_splits, end = (s + 1) * n / num_splits;
    std::vector<double> marginal(size_t(c), 0);
    for (int64_t i = begin; i < end; ++i)
      for (int64_t k = 0; k < c; ++k) marginal[size_t(k)] += p[size_t(i * c + k)] / double(end - begin);
    double kl = 0;
    for (int64_t i = begin; i < end; ++i)
      for (int64_t k = 0; k < c; ++k) {
        double q = p[size_t(i * c + k)];
        kl += q * (std::log(q) - std::log(marginal[size_t(k)]));
      }
    scores.push_back(std::exp(kl / double(end - begin)));
  }
  InceptionScore is;
  for (double v : scores) is.mean += v / double(num_splits);
  for (double v : scores) is.std += (v - is.mean) * (v - is.mean) / double(num_splits);
  is.std = std::sqrt(is.std);
  return is;
}

}  // namespace sg::eval
