// Metric formulas: the official values of eval_metrics fixtures (FID and KID to 1e-6, precision
// and recall exactly, IS), and properties that need no fixture.
#include <cmath>
#include <filesystem>

#include "eval/metrics.h"
#include "tests/fixtures.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

double scalar(const test::FixtureCase& c, const std::string& what) { return c.raw_tensor(what).to_vector().at(0); }

void expect_relative(test::FixtureCase& c, const std::string& what, double got, double want, double rel) {
  if (!(std::abs(got - want) <= rel * std::abs(want)))
    c.fail(str_cat(what, ": got ", got, ", want ", want, " (relative error ", std::abs(got - want) / std::abs(want), ")"));
}

// Per case: real and gen feature matrices; FID and KID in float64 (KID with one subset of all
// rows, which every subset is when the sets have equal size), precision and recall with k = 3.
// The file's FID takes np.cov covariances (divided by N - 1), not FeatureStats' N: ddof 1 here.
void check_metrics_case(test::FixtureCase& c) {
  const Tensor& real = c.raw_tensor("real");
  const Tensor& gen = c.raw_tensor("gen");
  eval::FeatureStats real_stats(real.size(1), false), gen_stats(gen.size(1), false);
  real_stats.append(real);
  gen_stats.append(gen);
  expect_relative(c, "fid", eval::fid_from_stats(real_stats, gen_stats, 1), scalar(c, "fid"), 1e-6);
  int64_t subset = std::min(real.size(0), gen.size(0));
  expect_relative(c, "kid", eval::kernel_inception_distance(real, gen, 1, subset), scalar(c, "kid"), 1e-6);
  eval::PrecisionRecall pr = eval::precision_recall(real, gen, 3);
  if (pr.precision != scalar(c, "precision")) c.fail(str_cat("precision: got ", pr.precision, ", want ", scalar(c, "precision")));
  if (pr.recall != scalar(c, "recall")) c.fail(str_cat("recall: got ", pr.recall, ", want ", scalar(c, "recall")));
  // The file's inception-score entry is not a case of its own: check it with the first case.
  auto cases = nlohmann::json::parse(c.file->metadata.at("cases"));
  if (c.file->has("is/probs") && c.name == cases.at(0).get<std::string>()) {
    eval::InceptionScore is = eval::inception_score(c.file->at("is/probs"), 10);
    expect_relative(c, "is/mean", is.mean, c.file->at("is/mean").to_vector().at(0), 1e-9);
    expect_relative(c, "is/std", is.std, c.file->at("is/std").to_vector().at(0), 1e-7);
  }
}

SG_REGISTER_FIXTURE("eval_metrics", check_metrics_case, {{Device::CPU, DType::Float64, "cpu float64"}});

}  // namespace

TEST_CASE("metrics: FID of a set with itself is 0, and of a shifted copy the squared shift") {
  Tensor x = test::random_tensor({200, 8}, 3, DType::Float64);
  eval::FeatureStats a(8, false), b(8, false);
  a.append(x);
  b.append(x);
  CHECK(std::abs(eval::fid_from_stats(a, b)) < 1e-9);
  std::vector<double> shifted = x.to_vector();
  for (size_t i = 0; i < shifted.size(); i += 8) shifted[i] += 2;  // +2 along feature 0
  eval::FeatureStats c(8, false);
  c.append(Tensor::from_vector(shifted, {200, 8}, DType::Float64));
  CHECK(eval::fid_from_stats(a, c) == doctest::Approx(4.0).epsilon(1e-9));
}

TEST_CASE("metrics: the Frechet distance of two Gaussians in closed form") {
  // 1-D: (m1 - m2)^2 + s1 + s2 - 2 sqrt(s1 s2); diagonal covariances add up per axis.
  double fid = eval::frechet_distance({1, 0}, {4, 0, 0, 1}, {0, 0}, {1, 0, 0, 9});
  CHECK(fid == doctest::Approx(1 + (4 + 1 - 2 * 2) + (1 + 9 - 2 * 3)).epsilon(1e-12));
}

TEST_CASE("metrics: statistics accumulate in batches and survive a save/load round trip") {
  Tensor x = test::random_tensor({50, 5}, 9, DType::Float32);
  eval::FeatureStats whole(5, true), parts(5, true);
  whole.append(x);
  parts.append(test::random_tensor({0, 5}, 1, DType::Float32));
  parts.append(raw::contiguous(raw::narrow(x, 0, 0, 20)));
  parts.append(raw::contiguous(raw::narrow(x, 0, 20, 30)));
  std::vector<double> cw = whole.covariance(), cp = parts.covariance();
  for (size_t i = 0; i < cw.size(); ++i) CHECK(cp[i] == doctest::Approx(cw[i]).epsilon(1e-12));
  std::string path = (std::filesystem::temp_directory_path() / "sg_stats_test.safetensors").string();
  whole.save(path, "test");
  eval::FeatureStats loaded = eval::FeatureStats::load(path);
  CHECK(loaded.count() == 50);
  CHECK(loaded.mean() == whole.mean());
  CHECK(loaded.covariance() == whole.covariance());
  CHECK(loaded.all().to_vector() == x.to_vector());
  std::filesystem::remove(path);
}

TEST_CASE("metrics: precision and recall of identical sets are 1, of far apart sets 0") {
  Tensor x = test::random_tensor({40, 4}, 5, DType::Float32);
  eval::PrecisionRecall same = eval::precision_recall(x, x, 3);
  CHECK(same.precision == 1.0);
  CHECK(same.recall == 1.0);
  std::vector<double> far = x.to_vector();
  for (double& v : far) v += 100;
  eval::PrecisionRecall apart = eval::precision_recall(x, Tensor::from_vector(far, {40, 4}), 3);
  CHECK(apart.precision == 0.0);
  CHECK(apart.recall == 0.0);
}

TEST_CASE("metrics: KID is near 0 for samples of one law and the IS of one-hot uniform classes is the class count") {
  Tensor a = test::random_tensor({300, 6}, 11, DType::Float64), b = test::random_tensor({300, 6}, 12, DType::Float64);
  CHECK(std::abs(eval::kernel_inception_distance(a, b, 10, 100, 1)) < 0.05);
  // 10 splits of 40 rows, each split holding every one of 4 classes 10 times, near one-hot.
  std::vector<double> probs(400 * 4, 1e-12);
  for (int i = 0; i < 400; ++i) probs[size_t(i * 4 + i % 4)] = 1 - 3e-12;
  eval::InceptionScore is = eval::inception_score(Tensor::from_vector(probs, {400, 4}, DType::Float64), 10);
  CHECK(is.mean == doctest::Approx(4.0).epsilon(1e-6));
  CHECK(is.std < 1e-9);
}

TEST_CASE("metrics: bad inputs give clear errors") {
  Tensor x = test::random_tensor({10, 4}, 1, DType::Float32);
  eval::FeatureStats s(4, false);
  CHECK_THROWS_WITH(s.append(test::random_tensor({10, 3}, 1, DType::Float32)), doctest::Contains("3 dimensions"));
  CHECK_THROWS_WITH(s.mean(), doctest::Contains("no features"));
  CHECK_THROWS_WITH(eval::precision_recall(x, test::random_tensor({10, 5}, 1, DType::Float32), 3),
                    doctest::Contains("dimensions"));
  CHECK_THROWS_WITH(eval::precision_recall(raw::contiguous(raw::narrow(x, 0, 0, 3)), x, 3), doctest::Contains("more than 3"));
  CHECK_THROWS_WITH(eval::inception_score(x, 20), doctest::Contains("at least 20 rows"));
  CHECK_THROWS_WITH(eval::kernel_inception_distance(Tensor::zeros({4}), x), doctest::Contains("[N, d]"));
}
