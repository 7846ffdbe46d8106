// Element types. float16/bfloat16 are stored as raw 16-bit patterns on the host (Half, BFloat16)
// and as __half/__nv_bfloat16 on the device; the bit layouts are identical. CPU kernels compute in
// float32 or float64 only: 16-bit CPU tensors are converted by the op wrappers.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

namespace sg {

enum class DType : uint8_t { Float16, BFloat16, Float32, Float64, Int64, UInt8 };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);
inline bool is_floating(DType d) { return d != DType::Int64 && d != DType::UInt8; }
inline bool is_half(DType d) { return d == DType::Float16 || d == DType::BFloat16; }

struct Half {
  uint16_t bits;
};
struct BFloat16 {
  uint16_t bits;
};

// IEEE binary16 conversions, round to nearest even (what __float2half does).
float half_to_float(Half h);
Half float_to_half(float f);
inline float bfloat16_to_float(BFloat16 b) {
  uint32_t u = uint32_t(b.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
BFloat16 float_to_bfloat16(float f);

template <class T>
struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::UInt8; };
template <> struct dtype_of<Half> { static constexpr DType value = DType::Float16; };
template <> struct dtype_of<BFloat16> { static constexpr DType value = DType::BFloat16; };

}  // namespace sg

// Runs the body with scalar_t bound to the C++ type of a float32/float64 dtype (CPU kernels).
#define SG_DISPATCH_FLOAT_CPU(dtype, op_name, ...)                                         \
  [&] {                                                                                    \
    switch (dtype) {                                                                       \
      case ::sg::DType::Float32: { using scalar_t = float; return __VA_ARGS__(); }         \
      case ::sg::DType::Float64: { using scalar_t = double; return __VA_ARGS__(); }        \
      default: SG_FAIL(op_name, ": expected float32 or float64 on CPU, got ", ::sg::dtype_name(dtype)); \
    }                                                                                      \
  }()
