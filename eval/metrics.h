// The metric formulas of stylegan2-ada-pytorch (metrics/*.py) on feature matrices, in float64 on
// the CPU. Feature tensors are [N, d] of any floating dtype and device.
//   FID   ||mu_g - mu_r||^2 + tr(S_g + S_r - 2 sqrt(S_g S_r)), covariances divided by N as
//         stylegan2-ada-pytorch does (N - 1 on request), the trace of the square root from symmetric eigendecompositions: for
//         symmetric positive semi-definite A and B, tr sqrt(A B) = sum sqrt(eig(A^1/2 B A^1/2)),
//         which is what scipy.linalg.sqrtm's real part gives, without its instability.
//   KID   the unbiased MMD^2 with the kernel (x.y / d + 1)^3, averaged over random subsets.
//   PR    k-NN manifolds (k = 3): pairwise distances of float16-rounded features, themselves
//         rounded to float16 like the official torch.cdist on half tensors.
//   IS    exp(mean KL(p(y|x) || p(y))) over 10 splits of softmax probabilities: mean and std.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace sg::eval {

// Running mean and (biased) covariance of feature vectors, accumulated in float64 like the
// official FeatureStats; `capture_all` also keeps the rows (KID, PR, IS need them).
class FeatureStats {
 public:
  FeatureStats(int64_t dim, bool capture_all);
  void append(const Tensor& features);  // [n, dim]
  int64_t count() const { return count_; }
  int64_t dim() const { return dim_; }
  std::vector<double> mean() const;
  // [dim * dim]: the sum of outer products of deviations divided by count - ddof. ddof 0 is what
  // stylegan2-ada-pytorch's FeatureStats computes (and what its FID reports); ddof 1 is np.cov,
  // used by pytorch-fid and by the eval_metrics fixtures. At 50k features they differ by 2e-5.
  std::vector<double> covariance(int ddof = 0) const;
  // The captured rows as float32 [count, dim] on the CPU.
  Tensor all() const;

  // On-disk form (dataset statistics cache): a safetensors file, written atomically.
  void save(const std::string& path, const std::string& description) const;
  static FeatureStats load(const std::string& path);

 private:
  int64_t dim_, count_ = 0;
  bool capture_all_;
  std::vector<double> sum_, sum_outer_;
  std::vector<float> rows_;
};

double frechet_distance(const std::vector<double>& mean_a, const std::vector<double>& cov_a,
                        const std::vector<double>& mean_b, const std::vector<double>& cov_b);
double fid_from_stats(const FeatureStats& real, const FeatureStats& gen, int ddof = 0);

// num_subsets subsets of min(N_real, N_gen, max_subset_size) rows drawn without replacement.
double kernel_inception_distance(const Tensor& real, const Tensor& gen, int num_subsets = 100,
                                 int64_t max_subset_size = 1000, uint64_t seed = 0);

struct PrecisionRecall {
  double precision = 0, recall = 0;
};
PrecisionRecall precision_recall(const Tensor& real, const Tensor& gen, int nhood_size = 3);

struct InceptionScore {
  double mean = 0, std = 0;
};
// probs [N, classes]: softmax probabilities, each row summing to 1.
InceptionScore inception_score(const Tensor& probs, int num_splits = 10);

}  // namespace sg::eval
