// Output-pixel maps over image planes, for ops whose every output pixel is a function of one
// input plane (pooling, resizing): out[p, oy, ox] = value(in + p * in_plane, oy, ox). The CPU
// loop lives here; plane_map.cuh holds the matching CUDA kernel. `value` is a functor usable on
// both sides (SG_HOST_DEVICE operator()).
#pragma once
#include <cstdint>

namespace sg {

template <class T, class Value>
void map_planes_cpu(T* out, const T* in, int64_t planes, int64_t in_plane, int64_t Ho, int64_t Wo, const Value& value) {
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t oy = 0; oy < Ho; ++oy)
      for (int64_t ox = 0; ox < Wo; ++ox) out[(p * Ho + oy) * Wo + ox] = value(in + p * in_plane, oy, ox);
}

}  // namespace sg
