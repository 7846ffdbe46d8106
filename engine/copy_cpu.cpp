// CPU strided copy with dtype conversion, and fill. Values pass through double, which is exact
// for every supported dtype except int64 beyond 2^53 (never used for data here).
#include <cmath>

#include "engine/copy.h"
#include "engine/strided.h"

namespace sg {

namespace {

double load_element(const void* base, DType dtype, int64_t i) {
  switch (dtype) {
    case DType::Float16: return half_to_float(static_cast<const Half*>(base)[i]);
    case DType::BFloat16: return bfloat16_to_float(static_cast<const BFloat16*>(base)[i]);
    case DType::Float32: return static_cast<const float*>(base)[i];
    case DType::Float64: return static_cast<const double*>(base)[i];
    case DType::Int64: return double(static_cast<const int64_t*>(base)[i]);
    case DType::UInt8: return static_cast<const uint8_t*>(base)[i];
  }
  return 0;
}

void store_element(void* base, DType dtype, int64_t i, double v) {
  switch (dtype) {
    case DType::Float16: static_cast<Half*>(base)[i] = float_to_half(float(v)); break;
    case DType::BFloat16: static_cast<BFloat16*>(base)[i] = float_to_bfloat16(float(v)); break;
    case DType::Float32: static_cast<float*>(base)[i] = float(v); break;
    case DType::Float64: static_cast<double*>(base)[i] = v; break;
    case DType::Int64: static_cast<int64_t*>(base)[i] = int64_t(v); break;
    case DType::UInt8: static_cast<uint8_t*>(base)[i] = uint8_t(v); break;
  }
}

}  // namespace

void copy_strided_cpu(const Tensor& dst, const Tensor& src) {
  StridedLayout in = make_layout(src, dst.shape(), "copy");
  StridedLayout out = make_layout(dst, "copy");
  const void* src_base = src.storage()->data();
  void* dst_base = dst.storage()->data();
  int64_t n = dst.numel();
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    std::memcpy(dst.data_ptr(), src.data_ptr(), n * dtype_size(dst.dtype()));
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    store_element(dst_base, dst.dtype(), out.offset_of(i), load_element(src_base, src.dtype(), in.offset_of(i)));
}

void fill_cpu(const Tensor& dst, double value) {
  StridedLayout out = make_layout(dst, "fill");
  void* base = dst.storage()->data();
  for (int64_t i = 0; i < dst.numel(); ++i) store_element(base, dst.dtype(), out.offset_of(i), value);
}

}  // namespace sg
