// One output value of max or average pooling, shared by the CPU loop and the CUDA kernel.
#pragma once
#include "engine/strided.h"
#include "ops/pool2d/pool2d.h"

namespace sg {

template <class T>
SG_HOST_DEVICE inline T pool2d_value(const T* plane, const Pool2dShape& s, int64_t oy, int64_t ox) {
  const int64_t y0 = oy * s.stride - s.padding, x0 = ox * s.stride - s.padding;
  T best = 0, total = 0;
  bool any = false;
  int64_t count = 0;
  for (int64_t y = y0; y < y0 + s.kernel; ++y)
    for (int64_t x = x0; x < x0 + s.kernel; ++x) {
      if (y < 0 || y >= s.H || x < 0 || x >= s.W) continue;
      T v = plane[y * s.W + x];
      best = !any || v > best || v != v ? v : best;  // NaN propagates, as torch's max pooling
      any = true;
      total += v;
      ++count;
    }
  if (s.is_max) return best;
  return total / T(s.count_include_pad ? int64_t(s.kernel) * s.kernel : count);
}

// pool2d_value as a functor for the plane maps.
template <class T>
struct Pool2dValue {
  Pool2dShape s;
  SG_HOST_DEVICE T operator()(const T* plane, int64_t oy, int64_t ox) const { return pool2d_value(plane, s, oy, ox); }
};

}  // namespace sg
