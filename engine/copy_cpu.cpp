// CPU strided copy with dtype conversion, and fill. Values pass through double, which is exact
// for every supported dtype except int64 beyond 2^53 (never used for data here).
#include <cmath>
#include <cstring>

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
  const int64_t n = dst.numel();
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous() && src.shape() == dst.shape()) {
    std::memcpy(dst.data_ptr(), src.data_ptr(), n * dtype_size(dst.dtype()));
    return;
  }
  StridedLayout layouts[2] = {make_layout(dst, "copy"), make_layout(src, dst.shape(), "copy")};
  void* dst_base = static_cast<char*>(dst.storage()->data()) + layouts[0].offset * int64_t(dtype_size(dst.dtype()));
  const void* src_base =
      static_cast<const char*>(src.storage()->data()) + layouts[1].offset * int64_t(dtype_size(src.dtype()));
  for_each_offset<2>(layouts, n, [&](int64_t, const int64_t* offsets) {
    store_element(dst_base, dst.dtype(), offsets[0], load_element(src_base, src.dtype(), offsets[1]));
  });
}

void fill_cpu(const Tensor& dst, double value) {
  StridedLayout layouts[1] = {make_layout(dst, "fill")};
  void* base = static_cast<char*>(dst.storage()->data()) + layouts[0].offset * int64_t(dtype_size(dst.dtype()));
  for_each_offset<1>(layouts, dst.numel(), [&](int64_t, const int64_t* offsets) {
    store_element(base, dst.dtype(), offsets[0], value);
  });
}

}  // namespace sg
