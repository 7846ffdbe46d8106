#include <algorithm>
#include "engine/rng.h"

#include "engine/philox.h"

namespace sg {

RandomGenerator& default_generator() {
  static RandomGenerator generator(0);
  return generator;
}

void manual_seed(uint64_t seed) { default_generator().set_state({seed, 0}); }

void fill_random_cpu(const Tensor& out, Distribution dist, uint64_t seed, uint64_t offset) {
  int64_t n = out.numel();
  if (out.dtype() == DType::Float64) {
    double* p = out.data<double>();
    for (int64_t i = 0; i < n; ++i)
      p[i] = dist == Distribution::Uniform ? uniform_double(seed, offset + i) : normal_double(seed, offset + i);
  } else {
    float* p = out.data<float>();
    for (int64_t i = 0; i < n; ++i)
      p[i] = dist == Distribution::Uniform ? uniform_float(seed, offset + i) : float(normal_double(seed, offset + i));
  }
}

namespace {

Tensor draw(const Shape& shape, RandomGenerator& gen, DType dtype, Device device, Distribution dist) {
  SG_CHECK(is_floating(dtype), "random: expected a floating dtype, got ", dtype_name(dtype));
  // 16-bit results are rounded from float32 draws.
  DType base = dtype == DType::Float64 ? DType::Float64 : DType::Float32;
  Tensor out = Tensor::empty(shape, base, device);
  uint64_t offset = gen.advance(uint64_t(out.numel()));
  if (out.numel() > 0) {
    if (device == Device::CUDA)
      fill_random_cuda(out, dist, gen.seed(), offset);
    else
      fill_random_cpu(out, dist, gen.seed(), offset);
  }
  return base == dtype ? out : raw::to(out, dtype, device);
}

}  // namespace

Tensor rand(const Shape& shape, RandomGenerator& gen, DType dtype, Device device) {
  return draw(shape, gen, dtype, device, Distribution::Uniform);
}
Tensor randn(const Shape& shape, RandomGenerator& gen, DType dtype, Device device) {
  return draw(shape, gen, dtype, device, Distribution::Normal);
}
Tensor rand(const Shape& shape, DType dtype, Device device) { return rand(shape, default_generator(), dtype, device); }
Tensor randn(const Shape& shape, DType dtype, Device device) { return randn(shape, default_generator(), dtype, device); }

Tensor randint(const Shape& shape, int64_t low, int64_t high, RandomGenerator& gen, Device device) {
  SG_CHECK(low < high, "randint: expected low < high, got [", low, ", ", high, ")");
  Tensor u = rand(shape, gen, DType::Float64, Device::CPU);
  Tensor out = Tensor::empty(shape, DType::Int64, Device::CPU);
  const double* pu = u.data<double>();
  int64_t* po = out.data<int64_t>();
  for (int64_t i = 0; i < out.numel(); ++i)
    po[i] = std::min(high - 1, low + int64_t(pu[i] * double(high - low)));
  return raw::to(out, DType::Int64, device);
}

}  // namespace sg
