// Philox RNG: the published known answers, statistics, offsets, state replay, 16-bit rounding,
// CPU/CUDA equality.
#include <algorithm>
#include <cmath>

#include "engine/philox.h"
#include "engine/rng.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

struct Moments {
  double mean = 0, var = 0, lo = INFINITY, hi = -INFINITY;
};

Moments moments_of(const Tensor& t) {
  std::vector<double> v = t.to_vector();
  Moments m;
  for (double x : v) {
    m.mean += x / double(v.size());
    m.lo = std::min(m.lo, x);
    m.hi = std::max(m.hi, x);
  }
  for (double x : v) m.var += (x - m.mean) * (x - m.mean) / double(v.size());
  return m;
}

}  // namespace

TEST_CASE("rng: Philox4x32-10 known-answer vectors (Random123 kat_vectors)") {
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
  // Distinct words in every position: catches swapped words or key halves, which the two above cannot.
  Philox4 pi = philox4x32_10(Philox4{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u);
  CHECK(pi.v[0] == 0xd16cfe09u);
  CHECK(pi.v[1] == 0x94fdccebu);
  CHECK(pi.v[2] == 0x5001e420u);
  CHECK(pi.v[3] == 0x24126ea1u);
}

TEST_CASE("rng: uniform and normal statistics") {
  // 200000 draws: the standard error of a mean is 0.0022 (normal) or 0.00065 (uniform), so each
  // bound below is over 4.5 standard errors wide.
  RandomGenerator gen(7);
  for (DType dtype : {DType::Float32, DType::Float64}) {
    Moments u = moments_of(rand({200000}, gen, dtype));
    CHECK(std::fabs(u.mean - 0.5) < 0.003);
    CHECK(std::fabs(u.var - 1.0 / 12) < 0.002);
    CHECK(u.lo >= 0);
    CHECK(u.hi < 1);
    Moments z = moments_of(randn({200000}, gen, dtype));
    CHECK(std::fabs(z.mean) < 0.01);
    CHECK(std::fabs(z.var - 1) < 0.02);
    CHECK((z.lo < -3.5 && z.hi > 3.5));  // real tails: 200000 draws reach beyond 3.5 sigma ~ 93 times
  }
}

TEST_CASE("rng: offsets advance, state replays, draws split freely") {
  RandomGenerator gen(3);
  Tensor a = randn({5}, gen);
  GeneratorState saved = gen.state();
  CHECK(saved.seed == 3);
  CHECK(saved.offset == 5);
  Tensor b = randn({7}, gen);
  CHECK(gen.state().offset == 12);
  CHECK(gen.advance(4) == 12);
  CHECK(gen.state().offset == 16);
  gen.set_state(saved);
  CHECK_CLOSE(randn({7}, gen), b, 0, 0);
  CHECK(randn({0}, gen).numel() == 0);
  CHECK(gen.state().offset == 12);

  RandomGenerator whole(3), split(3);
  Tensor all = randn({12}, whole);
  Tensor first = randn({5}, split), second = randn({7}, split);
  std::vector<double> values = all.to_vector();
  CHECK_CLOSE(first, Tensor::from_vector(std::vector<double>(values.begin(), values.begin() + 5), {5}), 0, 0);
  CHECK_CLOSE(second, Tensor::from_vector(std::vector<double>(values.begin() + 5, values.end()), {7}), 0, 0);
  CHECK(first.to_vector() == a.to_vector());
  // Another seed gives other numbers.
  RandomGenerator other(4);
  CHECK(randn({12}, other).to_vector() != values);
}

TEST_CASE("rng: manual_seed restarts the default generator") {
  manual_seed(21);
  Tensor a = rand({2, 3});
  Tensor b = randn({4});
  CHECK(default_generator().state().offset == 10);
  manual_seed(21);
  CHECK(default_generator().state().offset == 0);
  CHECK_CLOSE(rand({2, 3}), a, 0, 0);
  RandomGenerator same(21);
  same.advance(6);
  CHECK_CLOSE(randn({4}, same), b, 0, 0);
}

TEST_CASE("rng: 16-bit draws are rounded float32 draws and stay below 1") {
  RandomGenerator g16(9), g32(9);
  for (DType dtype : {DType::Float16, DType::BFloat16}) {
    Tensor z = randn({4096}, g16, dtype);
    CHECK(z.dtype() == dtype);
    CHECK_CLOSE(z, raw::to(randn({4096}, g32, DType::Float32), dtype, Device::CPU), 0, 0);
    // A uniform keeps the top bits of the float32 draw that the 16-bit type can hold exactly.
    double scale = dtype == DType::Float16 ? 2048 : 256;
    std::vector<double> u = rand({4096}, g16, dtype).to_vector(), u32 = rand({4096}, g32).to_vector();
    for (size_t i = 0; i < u.size(); ++i) CHECK(u[i] == std::floor(u32[i] * scale) / scale);
  }
  // Rounding 24-bit uniforms to nearest would give 1.0 in about 1 of 512 bfloat16 draws.
  Moments b = moments_of(rand({100000}, g16, DType::BFloat16));
  CHECK(b.hi < 1);
  CHECK(std::fabs(b.mean - (0.5 - 1.0 / 512)) < 0.004);  // 8-bit values: mean 0.5 - 2^-9, 4 standard errors
}

TEST_CASE("rng: randint covers [low, high) evenly") {
  RandomGenerator gen(5);
  std::vector<double> ints = randint({5000}, -2, 3, gen).to_vector();
  std::vector<int> counts(5, 0);
  for (double v : ints) {
    REQUIRE((v >= -2 && v < 3 && v == std::floor(v)));
    ++counts[size_t(v + 2)];
  }
  for (int c : counts) CHECK(std::abs(c - 1000) < 150);  // over 5 standard deviations (28.3) either side
  CHECK(randint({3}, 7, 8, gen).to_vector() == std::vector<double>{7, 7, 7});
  CHECK(randint({2}, 0, 2, gen).dtype() == DType::Int64);
}

TEST_CASE("rng: bad requests") {
  RandomGenerator gen(1);
  CHECK_THROWS_WITH_ALL(randint({2}, 3, 3, gen), "randint", "low < high", "[3, 3)");
  CHECK_THROWS_WITH_ALL(rand({2}, gen, DType::Int64), "random", "floating dtype", "int64");
  CHECK_THROWS_WITH_ALL(randn({2}, gen, DType::UInt8), "random", "floating dtype", "uint8");
  Tensor strided = raw::permute(Tensor::empty({2, 3}), {1, 0});
  CHECK_THROWS_WITH_ALL(fill_random_cpu(strided, Distribution::Normal, 1, 0), "fill_random_cpu", "contiguous",
                        "float32[3, 2]");
  CHECK_THROWS_WITH_ALL(fill_random_cpu(Tensor::empty({2}, DType::Int64), Distribution::Uniform, 1, 0),
                        "fill_random_cpu", "floating", "int64");
}

TEST_CASE("rng: CUDA draws equal CPU draws") {
  SG_REQUIRE_CUDA();
  RandomGenerator cpu(11), gpu(11);
  // An odd size, so the last block of the fill kernel is partly idle.
  Tensor u_gpu = rand({100003}, gpu, DType::Float32, Device::CUDA);
  Moments u = moments_of(u_gpu);
  REQUIRE((u.lo >= 0 && u.hi < 1 && u.hi > 0.99));
  // Uniforms are integer bits times a power of two: identical on both devices.
  CHECK_CLOSE(u_gpu, rand({100003}, cpu, DType::Float32), 0, 0);
  CHECK_CLOSE(rand({1001}, gpu, DType::Float64, Device::CUDA), rand({1001}, cpu, DType::Float64), 0, 0);
  CHECK_CLOSE(rand({1001}, gpu, DType::BFloat16, Device::CUDA), rand({1001}, cpu, DType::BFloat16), 0, 0);
  // Box-Muller's log/cos are computed in double; CUDA's double log and cos are within 1-2 ulp of
  // glibc's, so after rounding to float32 a value may differ by one float32 ulp (<= 1.2e-7 relative),
  // and in float64 by a few double ulps (|z| < 7).
  Tensor z_gpu = randn({100003}, gpu, DType::Float32, Device::CUDA);
  Moments z = moments_of(z_gpu);
  REQUIRE((std::isfinite(z.lo) && std::isfinite(z.hi) && z.var > 0.9));
  CHECK_CLOSE(z_gpu, randn({100003}, cpu, DType::Float32), 1e-6, 1e-6);
  CHECK_CLOSE(randn({1001}, gpu, DType::Float64, Device::CUDA), randn({1001}, cpu, DType::Float64), 1e-14, 1e-14);
  // One float32 ulp of difference can round to neighbouring float16 values: one float16 ulp, 2^-10 relative.
  CHECK_CLOSE(randn({1001}, gpu, DType::Float16, Device::CUDA), randn({1001}, cpu, DType::Float16), 1e-7, 1e-3);
  CHECK_CLOSE(randint({1001}, -5, 100, gpu, Device::CUDA), randint({1001}, -5, 100, cpu), 0, 0);
  CHECK(gpu.state().offset == cpu.state().offset);
}
