// Device-side element types and conversions, and the dtype dispatch used by CUDA launchers.
// 16-bit types compute in float; float64 computes in double.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#include "engine/dtype.h"
#include "engine/error.h"

namespace sg {

template <class T>
struct compute_type {
  using type = float;
};
template <>
struct compute_type<double> {
  using type = double;
};
template <class T>
using compute_t = typename compute_type<T>::type;

template <class T>
__host__ __device__ __forceinline__ compute_t<T> load_as_compute(const T* p) {
  if constexpr (std::is_same_v<T, __half>)
    return __half2float(*p);
  else if constexpr (std::is_same_v<T, __nv_bfloat16>)
    return __bfloat162float(*p);
  else
    return *p;
}

template <class T, class C>
__host__ __device__ __forceinline__ T from_compute(C v) {
  if constexpr (std::is_same_v<T, __half>)
    return __float2half_rn(float(v));
  else if constexpr (std::is_same_v<T, __nv_bfloat16>)
    return __float2bfloat16_rn(float(v));
  else
    return T(v);
}

// N elements of T moved by one aligned load or store: 16 bytes (the widest access) when
// N = kPackWidth<T>. Elementwise kernels use it on contiguous operands so that a float16 op
// issues one load per 8 elements instead of 8 two-byte loads.
template <class T, int N>
struct alignas(sizeof(T) * N) Pack {
  T v[N];
};
template <class T>
constexpr int kPackWidth = int(16 / sizeof(T));

inline bool is_aligned(const void* p, size_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

}  // namespace sg

// Binds scalar_t to the device type of a floating dtype (float16, bfloat16, float32, float64).
#define SG_DISPATCH_FLOAT_CUDA(dtype, op_name, ...)                                          \
  [&] {                                                                                      \
    switch (dtype) {                                                                         \
      case ::sg::DType::Float16: { using scalar_t = __half; return __VA_ARGS__(); }          \
      case ::sg::DType::BFloat16: { using scalar_t = __nv_bfloat16; return __VA_ARGS__(); }  \
      case ::sg::DType::Float32: { using scalar_t = float; return __VA_ARGS__(); }           \
      case ::sg::DType::Float64: { using scalar_t = double; return __VA_ARGS__(); }          \
      default: SG_FAIL(op_name, ": expected a floating dtype, got ", ::sg::dtype_name(dtype)); \
    }                                                                                        \
  }()

// As above, plus int64 and uint8 (copies and fills).
#define SG_DISPATCH_ALL_CUDA(dtype, op_name, ...)                                            \
  [&] {                                                                                      \
    switch (dtype) {                                                                         \
      case ::sg::DType::Int64: { using scalar_t = int64_t; return __VA_ARGS__(); }           \
      case ::sg::DType::UInt8: { using scalar_t = uint8_t; return __VA_ARGS__(); }           \
      default: return SG_DISPATCH_FLOAT_CUDA(dtype, op_name, __VA_ARGS__);                   \
    }                                                                                        \
  }()
