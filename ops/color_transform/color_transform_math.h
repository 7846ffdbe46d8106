// One pixel of color_transform, shared by the CPU loop and the CUDA kernel: C inputs a plane
// apart in, C outputs a plane apart out.
#pragma once
#include <cstdint>

#include "engine/strided.h"

namespace sg {

template <class T, class C>
SG_HOST_DEVICE inline void color_transform_pixel(T* out, const T* x, int64_t plane, int channels, const C* matrix,
                                                 const C* offset) {
  C in[4];
  for (int j = 0; j < channels; ++j) in[j] = C(x[j * plane]);
  for (int i = 0; i < channels; ++i) {
    C acc = 0;
    for (int j = 0; j < channels; ++j) acc += matrix[i * channels + j] * in[j];
    out[i * plane] = T(acc + offset[i]);
  }
}

}  // namespace sg
