// CUDA strided copy with dtype conversion, and fill. A contiguous same-dtype copy is one
// cudaMemcpyAsync; a contiguous floating conversion (float32 <-> float16 around the float16
// layers) moves packs of elements per thread; everything else is one thread per element through
// the coalesced 32-bit IndexMap32 (destination and source offsets from one decomposition), or
// StridedLayout when the tensor is too large for it or has negative strides.
#include <algorithm>
#include "engine/copy.h"
#include "engine/cuda_check.h"
#include "engine/cuda_types.cuh"
#include "engine/nvtx.h"
#include "engine/strided.h"

namespace sg {

namespace {

template <class D, class S>
__device__ __forceinline__ D convert(S s) {
  if constexpr (std::is_same_v<D, S>) {
    return s;
  } else if constexpr (std::is_same_v<D, double> || std::is_same_v<S, double> ||
                       std::is_same_v<D, int64_t> || std::is_same_v<S, int64_t>) {
    double v;
    if constexpr (std::is_same_v<S, __half> || std::is_same_v<S, __nv_bfloat16>)
      v = double(load_as_compute(&s));
    else
      v = double(s);
    return from_compute<D>(v);
  } else {
    float v;
    if constexpr (std::is_same_v<S, __half> || std::is_same_v<S, __nv_bfloat16>)
      v = load_as_compute(&s);
    else
      v = float(s);
    return from_compute<D>(v);
  }
}

template <class D, class S, int N>
__global__ void convert_packed_kernel(D* __restrict__ dst, const S* __restrict__ src, int64_t n) {
  const int64_t packs = n / N, first = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  for (int64_t p = first; p < packs; p += int64_t(gridDim.x) * blockDim.x) {
    const Pack<S, N> in = reinterpret_cast<const Pack<S, N>*>(src)[p];
    Pack<D, N> out;
#pragma unroll
    for (int j = 0; j < N; ++j) out.v[j] = convert<D>(in.v[j]);
    reinterpret_cast<Pack<D, N>*>(dst)[p] = out;
  }
  // The n % N elements after the last pack, one per thread of the first block.
  const int64_t i = packs * N + first;
  if (i < n) dst[i] = convert<D>(src[i]);
}

template <class D, class S>
__global__ void copy_mapped_kernel(D* __restrict__ dst, const S* __restrict__ src, IndexMap32<2> map, uint32_t n) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    uint32_t offsets[2];
    map.offsets(i, offsets);
    dst[offsets[0]] = convert<D>(src[offsets[1]]);
  }
}

template <class D>
__global__ void fill_mapped_kernel(D* __restrict__ dst, IndexMap32<1> map, D value, uint32_t n) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    uint32_t offsets[1];
    map.offsets(i, offsets);
    dst[offsets[0]] = value;
  }
}

template <class D, class S>
__global__ void copy_strided_kernel(D* __restrict__ dst, const S* __restrict__ src, StridedLayout out,
                                    StridedLayout in, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dst[out.offset_of(i)] = convert<D>(src[in.offset_of(i)]);
}

template <class D>
__global__ void fill_kernel(D* __restrict__ dst, StridedLayout out, D value, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dst[out.offset_of(i)] = value;
}

unsigned grid_for(int64_t n, int threads) {
  return unsigned(std::clamp<int64_t>((n + threads - 1) / threads, 1, int64_t(1) << 20));
}

}  // namespace

void copy_strided_cuda(const Tensor& dst, const Tensor& src) {
  NvtxRange range("copy");
  int64_t n = dst.numel();
  if (n == 0) return;
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous() && src.shape() == dst.shape()) {
    CUDA_CHECK(cudaMemcpyAsync(dst.data_ptr(), src.data_ptr(), n * dtype_size(dst.dtype()),
                               cudaMemcpyDeviceToDevice, current_stream()));
    return;
  }
  if (is_floating(src.dtype()) && is_floating(dst.dtype()) && src.is_contiguous() && dst.is_contiguous() &&
      src.shape() == dst.shape() && is_aligned(src.data_ptr(), 16) && is_aligned(dst.data_ptr(), 16)) {
    SG_DISPATCH_FLOAT_CUDA(dst.dtype(), "copy", [&] {
      using dst_t = scalar_t;
      SG_DISPATCH_FLOAT_CUDA(src.dtype(), "copy", [&] {
        constexpr int N = int(16 / std::max(sizeof(dst_t), sizeof(scalar_t)));
        convert_packed_kernel<dst_t, scalar_t, N><<<grid_for(n / N, 256), 256, 0, current_stream()>>>(
            static_cast<dst_t*>(dst.data_ptr()), static_cast<const scalar_t*>(src.data_ptr()), n);
      });
    });
    CUDA_CHECK_LAUNCH("copy");
    return;
  }
  StridedLayout layouts[2] = {make_layout(dst, "copy"), make_layout(src, dst.shape(), "copy")};
  coalesce_layouts(layouts, 2);
  const bool map32 = fits_index_map32(layouts, 2);
  SG_DISPATCH_ALL_CUDA(dst.dtype(), "copy", [&] {
    using dst_t = scalar_t;
    SG_DISPATCH_ALL_CUDA(src.dtype(), "copy", [&] {
      dst_t* d = static_cast<dst_t*>(dst.storage()->data());
      const scalar_t* s = static_cast<const scalar_t*>(src.storage()->data());
      if (map32)
        copy_mapped_kernel<dst_t, scalar_t><<<grid_for(n, 256), 256, 0, current_stream()>>>(
            d + layouts[0].offset, s + layouts[1].offset, make_index_map32<2>(layouts), uint32_t(n));
      else
        copy_strided_kernel<dst_t, scalar_t><<<grid_for(n, 256), 256, 0, current_stream()>>>(d, s, layouts[0],
                                                                                               layouts[1], n);
    });
  });
  CUDA_CHECK_LAUNCH("copy");
}

void fill_cuda(const Tensor& dst, double value) {
  NvtxRange range("fill");
  int64_t n = dst.numel();
  if (n == 0) return;
  StridedLayout layouts[1] = {make_layout(dst, "fill")};
  coalesce_layouts(layouts, 1);
  const bool map32 = fits_index_map32(layouts, 1);
  SG_DISPATCH_ALL_CUDA(dst.dtype(), "fill", [&] {
    scalar_t* d = static_cast<scalar_t*>(dst.storage()->data());
    const scalar_t v = from_compute<scalar_t>(value);
    if (map32)
      fill_mapped_kernel<scalar_t><<<grid_for(n, 256), 256, 0, current_stream()>>>(
          d + layouts[0].offset, make_index_map32<1>(layouts), v, uint32_t(n));
    else
      fill_kernel<scalar_t><<<grid_for(n, 256), 256, 0, current_stream()>>>(d, layouts[0], v, n);
  });
  CUDA_CHECK_LAUNCH("fill");
}

}  // namespace sg
