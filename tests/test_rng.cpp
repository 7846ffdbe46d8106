// Philox RNG: the published known answers, statistics, offsets, state replay, CPU/CUDA equality.
#include <algorithm>
#include <cmath>

#include "engine/philox.h"
#include "engine/rng.h"
#include "tests/test_util.h"

using namespace sg;

TEST_CASE("rng: Philox4x32-10 known-answer vectors (Random123)") {
  Philox4 zero = philox4x32_10(Philox4{{0, 0, 0, 0}}, 0, 0);
  CHECK(zero.v[0] == 0x6627e8d5u);
  CHECK(zero.v[1] == 0xe169c58du);
  CHECK(zero.v[2] == 0xbc57ac4cu);
  CHECK(zero.v[3] == 0x9b00dbd8u);
  Philox4 ones = philox4x32_10(Philox4{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu);
  CHECK(ones.v[0] == 0x408f276du);
  CHECK(ones.v[1] == 0x41c83b0eu);
  CHECK(ones.v[2] == 0xa20bc7c6u);
  CHECK(ones.v[3] == 0x6d5451fdu);
}

TEST_CASE("rng: uniform and normal statistics") {
  RandomGenerator gen(7);
  std::vector<double> u = rand({200000}, gen, DType::Float64).to_vector();
  std::vector<double> z = randn({200000}, gen, DType::Float32).to_vector();
  double mu = 0, mz = 0, vz = 0, lo = 1, hi = 0;
  for (double x : u) {
    mu += x / u.size();
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  for (double x : z) mz += x / z.size();
  for (double x : z) vz += (x - mz) * (x - mz) / z.size();
  CHECK(mu == doctest::Approx(0.5).epsilon(0.01));
  CHECK(lo >= 0);
  CHECK(hi < 1);
  CHECK(std::fabs(mz) < 0.01);  // 4.5 standard errors
  CHECK(vz == doctest::Approx(1.0).epsilon(0.02));
}

TEST_CASE("rng: offsets advance, state replays, draws split freely") {
  RandomGenerator gen(3);
  Tensor a = randn({5}, gen);
  GeneratorState saved = gen.state();
  CHECK(saved.offset == 5);
  Tensor b = randn({7}, gen);
  gen.set_state(saved);
  CHECK_CLOSE(randn({7}, gen), b, 0, 0);
  RandomGenerator whole(3), split(3);
  Tensor all = randn({12}, whole);
  Tensor first = randn({5}, split), second = randn({7}, split);
  std::vector<double> values = all.to_vector();
  CHECK_CLOSE(first, Tensor::from_vector(std::vector<double>(values.begin(), values.begin() + 5), {5}), 0, 0);
  CHECK(second.to_vector()[0] == values[5]);
  CHECK_THROWS_WITH_ALL(randint({2}, 3, 3, gen), "randint", "low < high");
  std::vector<double> ints = randint({1000}, -2, 3, gen).to_vector();
  for (double v : ints) CHECK((v >= -2 && v < 3));
}

TEST_CASE("rng: CUDA draws equal CPU draws") {
  SG_REQUIRE_CUDA();
  RandomGenerator cpu(11), gpu(11);
  CHECK_CLOSE(rand({100003}, gpu, DType::Float32, Device::CUDA), rand({100003}, cpu, DType::Float32), 0, 0);
  // Box-Muller's log/cos may differ by an ulp between libm and CUDA's double functions.
  CHECK_CLOSE(randn({100003}, gpu, DType::Float32, Device::CUDA), randn({100003}, cpu, DType::Float32), 1e-6, 1e-6);
  CHECK_CLOSE(randn({1001}, gpu, DType::Float64, Device::CUDA), randn({1001}, cpu, DType::Float64), 1e-14, 1e-14);
}
