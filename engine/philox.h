// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) and the
// conversions to uniform and normal values, shared by the CPU and CUDA fills. Every element
// has its own counter, so a value does not depend on how a draw is split among threads.
#pragma once
#include <math.h>
#include <stdint.h>

#include "engine/strided.h"

namespace sg {

struct Philox4 {
  uint32_t v[4];
};

SG_HOST_DEVICE inline void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  uint64_t product = uint64_t(a) * uint64_t(b);
  hi = uint32_t(product >> 32);
  lo = uint32_t(product);
}

// Ten rounds of the Philox bijection of a 128-bit counter under a 64-bit key.
SG_HOST_DEVICE inline Philox4 philox4x32_10(Philox4 ctr, uint32_t key0, uint32_t key1) {
  const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(M0, ctr.v[0], hi0, lo0);
    mulhilo(M1, ctr.v[2], hi1, lo1);
    ctr = Philox4{{hi1 ^ ctr.v[1] ^ key0, lo1, hi0 ^ ctr.v[3] ^ key1, lo0}};
    key0 += W0;
    key1 += W1;
  }
  return ctr;
}

// Four 32-bit words for counter index `i` of stream `seed`.
SG_HOST_DEVICE inline Philox4 philox_words(uint64_t seed, uint64_t i) {
  return philox4x32_10(Philox4{{uint32_t(i), uint32_t(i >> 32), 0u, 0u}}, uint32_t(seed), uint32_t(seed >> 32));
}

// Uniform in [0, 1) with 53 random bits (float64) or fewer (float); identical on both devices.
SG_HOST_DEVICE inline double uniform_double(uint64_t seed, uint64_t i) {
  Philox4 w = philox_words(seed, i);
  uint64_t bits = (uint64_t(w.v[0]) << 21) ^ uint64_t(w.v[1] >> 11);
  return double(bits & ((uint64_t(1) << 53) - 1)) * (1.0 / 9007199254740992.0);
}
// `bits` (1..24) random bits: 24 fill a float32 significand; a float16 or bfloat16 result takes
// 11 or 8 (uniform_bits), so rounding to it is exact and never carries a value up to 1.
SG_HOST_DEVICE inline float uniform_float(uint64_t seed, uint64_t i, int bits = 24) {
  Philox4 w = philox_words(seed, i);
  return float(w.v[0] >> (32 - bits)) * (1.0f / float(1u << bits));
}
inline int uniform_bits(DType dtype) { return dtype == DType::Float16 ? 11 : dtype == DType::BFloat16 ? 8 : 24; }

// Standard normal by Box-Muller on two words of the element's own counter, computed in double
// so the CPU and GPU results agree to the last float32 bit in practice.
SG_HOST_DEVICE inline double normal_double(uint64_t seed, uint64_t i) {
  Philox4 w = philox_words(seed, i);
  double u1 = (double(w.v[0]) + 1.0) * (1.0 / 4294967297.0);  // (0, 1]: log stays finite
  double u2 = double(w.v[1]) * (1.0 / 4294967296.0);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

}  // namespace sg
