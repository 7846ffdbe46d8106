#include "engine/rng.h"

#include <algorithm>

#include "engine/philox.h"

namespace sg {

RandomGenerator& default_generator() {
  static RandomGenerator generator(0);
  return generator;
}

void manual_seed(uint64_t seed) { default_generator().set_state({seed, 0}); }

namespace {

template <class T, class Convert>
void fill_random_loop(const Tensor& out, Distribution dist, uint64_t seed, uint64_t offset, Convert convert) {
  T* p = out.data<T>();
  int bits = uniform_bits(out.dtype());
  for (int64_t i = 0, n = out.numel(); i < n; ++i) {
    uint64_t counter = offset + uint64_t(i);
    p[i] = convert(dist == Distribution::Uniform ? uniform_float(seed, counter, bits) : float(normal_double(seed, counter)));
  }
}

}  // namespace

void fill_random_cpu(const Tensor& out, Distribution dist, uint64_t seed, uint64_t offset) {
  SG_CHECK(!out.is_cuda() && out.is_contiguous() && is_floating(out.dtype()),
           "fill_random_cpu: expected a contiguous floating CPU tensor, got ", out.describe());
  switch (out.dtype()) {
    case DType::Float64: {
      double* p = out.data<double>();
      for (int64_t i = 0, n = out.numel(); i < n; ++i) {
        uint64_t counter = offset + uint64_t(i);
        p[i] = dist == Distribution::Uniform ? uniform_double(seed, counter) : normal_double(seed, counter);
      }
      break;
    }
    case DType::Float32: fill_random_loop<float>(out, dist, seed, offset, [](float v) { return v; }); break;
    case DType::Float16: fill_random_loop<Half>(out, dist, seed, offset, float_to_half); break;
    default: fill_random_loop<BFloat16>(out, dist, seed, offset, float_to_bfloat16); break;
  }
}

namespace {

Tensor draw(const Shape& shape, RandomGenerator& gen, DType dtype, Device device, Distribution dist) {
  SG_CHECK(is_floating(dtype), "random: expected a floating dtype, got ", dtype_name(dtype));
  Tensor out = Tensor::empty(shape, dtype, device);
  uint64_t offset = gen.advance(uint64_t(out.numel()));
  if (out.numel() > 0) {
    if (device == Device::CUDA)
      fill_random_cuda(out, dist, gen.seed(), offset);
    else
      fill_random_cpu(out, dist, gen.seed(), offset);
  }
  return out;
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
  // Drawn on the CPU from float64 uniforms (53 bits: unbiased enough for any range the engine
  // uses), so both devices get the same integers.
  Tensor u = rand(shape, gen, DType::Float64, Device::CPU);
  Tensor out = Tensor::empty(shape, DType::Int64, Device::CPU);
  const double* pu = u.data<double>();
  int64_t* po = out.data<int64_t>();
  for (int64_t i = 0; i < out.numel(); ++i)
    po[i] = std::min(high - 1, low + int64_t(pu[i] * double(high - low)));
  return raw::to(out, DType::Int64, device);
}

}  // namespace sg
