// Counter-based random numbers (Philox4x32-10). Draw i of a request is a pure function of
// (seed, offset + i), computed by the same code on the CPU and the GPU, so the same seed and
// offset give the same numbers on both devices. A generator's state is (seed, offset): saving
// and restoring it replays a run exactly (training resume relies on this).
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace sg {

struct GeneratorState {
  uint64_t seed = 0;
  uint64_t offset = 0;
};

class RandomGenerator {
 public:
  explicit RandomGenerator(uint64_t seed = 0) : state_{seed, 0} {}
  GeneratorState state() const { return state_; }
  void set_state(const GeneratorState& state) { state_ = state; }
  uint64_t seed() const { return state_.seed; }
  // Reserves `count` counters and returns the first; consecutive draws never overlap.
  uint64_t advance(uint64_t count) {
    uint64_t start = state_.offset;
    state_.offset += count;
    return start;
  }

 private:
  GeneratorState state_;
};

RandomGenerator& default_generator();
void manual_seed(uint64_t seed);  // reseeds the default generator at offset 0

// Uniform in [0, 1) and standard normal draws; each reserves numel() counters of `gen`.
Tensor rand(const Shape& shape, RandomGenerator& gen, DType dtype = DType::Float32, Device device = Device::CPU);
Tensor randn(const Shape& shape, RandomGenerator& gen, DType dtype = DType::Float32, Device device = Device::CPU);
// The same from default_generator().
Tensor rand(const Shape& shape, DType dtype = DType::Float32, Device device = Device::CPU);
Tensor randn(const Shape& shape, DType dtype = DType::Float32, Device device = Device::CPU);
// Uniform integers in [low, high), int64.
Tensor randint(const Shape& shape, int64_t low, int64_t high, RandomGenerator& gen, Device device = Device::CPU);

enum class Distribution { Uniform, Normal };
// Raw fills of a contiguous floating tensor: element i uses counter (offset + i). 16-bit results
// are rounded from float32 values (uniform ones drawn with only as many bits as the type holds,
// so they stay below 1).
void fill_random_cpu(const Tensor& out, Distribution dist, uint64_t seed, uint64_t offset);
void fill_random_cuda(const Tensor& out, Distribution dist, uint64_t seed, uint64_t offset);

}  // namespace sg
