// The CUDA side of plane_map.h: one thread per output pixel, grid-stride.
#pragma once
#include <algorithm>

#include "engine/cuda_check.h"
#include "engine/device.h"

namespace sg {

template <class T, class Value>
__global__ void map_planes_kernel(T* __restrict__ out, const T* __restrict__ in, int64_t planes, int64_t in_plane,
                                  int64_t Ho, int64_t Wo, Value value) {
  const int64_t total = planes * Ho * Wo;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x)
    out[e] = value(in + e / (Ho * Wo) * in_plane, e / Wo % Ho, e % Wo);
}

template <class T, class Value>
void map_planes_cuda(T* out, const T* in, int64_t planes, int64_t in_plane, int64_t Ho, int64_t Wo, const Value& value,
                     const char* op_name) {
  const int64_t total = planes * Ho * Wo;
  const unsigned blocks = unsigned(std::min<int64_t>((total + 255) / 256, 65535 * 16));
  map_planes_kernel<<<blocks, 256, 0, current_stream()>>>(out, in, planes, in_plane, Ho, Wo, value);
  CUDA_CHECK_LAUNCH(op_name);
}

}  // namespace sg
