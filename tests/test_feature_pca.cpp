// PCA colouring of feature maps (visualize_features): the axes are the leading principal
// directions, orthonormal and in order of variance, and the colours stay in the image range.
#include <cmath>

#include "eval/feature_pca.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

// Maps [2, 4, 8, 8] whose channel vectors vary along e0 (std 3), e2 (std 2) and e3 (std 1)
// around the mean (1, 2, 3, 4); channel 1 is constant.
Tensor structured_maps() {
  Tensor noise = test::random_tensor({3, 2 * 8 * 8}, 7, DType::Float64);
  const double* z = noise.data<double>();
  Tensor maps = Tensor::empty({2, 4, 8, 8}, DType::Float64);
  double* m = maps.data<double>();
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t p = 0; p < 64; ++p) {
      int64_t k = i * 64 + p;
      double v[4] = {1 + 3 * z[k], 2, 3 + 2 * z[128 + k], 4 + z[256 + k]};
      for (int64_t c = 0; c < 4; ++c) m[(i * 4 + c) * 64 + p] = v[c];
    }
  return maps;
}

}  // namespace

TEST_CASE("feature_pca: axes are orthonormal principal directions in order of variance") {
  eval::PcaProjection pca = eval::PcaProjection::fit(structured_maps());
  REQUIRE(pca.axes.size() == 3);
  for (size_t a = 0; a < 3; ++a)
    for (size_t b = 0; b < 3; ++b) {
      double d = 0;
      for (size_t k = 0; k < 4; ++k) d += pca.axes[a][k] * pca.axes[b][k];
      CHECK(d == doctest::Approx(a == b ? 1.0 : 0.0).epsilon(1e-9));
    }
  // The draws are not exactly uncorrelated, so the axes are close to, not equal to, e0, e2, e3.
  CHECK(std::abs(pca.axes[0][0]) > 0.95);
  CHECK(std::abs(pca.axes[1][2]) > 0.95);
  CHECK(std::abs(pca.axes[2][3]) > 0.95);
  for (const auto& axis : pca.axes) CHECK(std::abs(axis[1]) < 1e-6);
  CHECK(pca.mean[1] == doctest::Approx(2.0));
}

TEST_CASE("feature_pca: colours lie in [-1, 1] and refits are identical") {
  Tensor maps = structured_maps();
  eval::PcaProjection pca = eval::PcaProjection::fit(maps);
  Tensor rgb = pca.to_rgb(maps);
  CHECK(rgb.shape() == Shape{2, 3, 8, 8});
  for (double v : rgb.to_vector()) CHECK((v >= -1 && v <= 1));
  CHECK(eval::PcaProjection::fit(maps).to_rgb(maps).to_vector() == rgb.to_vector());
}

TEST_CASE("feature_pca: bad maps give clear errors") {
  eval::PcaProjection pca = eval::PcaProjection::fit(structured_maps());
  CHECK_THROWS_WITH(pca.to_rgb(Tensor::zeros({1, 5, 2, 2})), doctest::Contains("fitted on 4"));
  CHECK_THROWS_WITH(eval::PcaProjection::fit(Tensor::zeros({1, 2, 2, 2})), doctest::Contains("at least 3 channels"));
  CHECK_THROWS_WITH(eval::PcaProjection::fit(Tensor::zeros({4, 4})), doctest::Contains("[N, C, H, W]"));
}
