// The bilinear footprint of one sample point, shared by the CPU loops and the CUDA kernels:
// the four neighbouring pixels and their weights (zero for pixels outside the image).
#pragma once
#include <math.h>

#include "engine/strided.h"

namespace sg {

template <class T>
struct Bilinear {
  int64_t index[4];  // y * W + x, or -1 outside the image
  T weight[4];
};

// gx, gy in [-1, 1] map to pixel centres with align_corners = false: ((g + 1) * size - 1) / 2.
template <class T>
SG_HOST_DEVICE inline Bilinear<T> bilinear_footprint(T gx, T gy, int64_t H, int64_t W) {
  T ix = ((gx + T(1)) * T(W) - T(1)) / T(2), iy = ((gy + T(1)) * T(H) - T(1)) / T(2);
  T fx = floor(ix), fy = floor(iy);
  int64_t x0 = int64_t(fx), y0 = int64_t(fy);
  T tx = ix - fx, ty = iy - fy;
  Bilinear<T> b;
  const int64_t xs[4] = {x0, x0 + 1, x0, x0 + 1}, ys[4] = {y0, y0, y0 + 1, y0 + 1};
  const T ws[4] = {(T(1) - tx) * (T(1) - ty), tx * (T(1) - ty), (T(1) - tx) * ty, tx * ty};
  for (int k = 0; k < 4; ++k) {
    bool inside = xs[k] >= 0 && xs[k] < W && ys[k] >= 0 && ys[k] < H;
    b.index[k] = inside ? ys[k] * W + xs[k] : -1;
    b.weight[k] = inside ? ws[k] : T(0);
  }
  return b;
}

}  // namespace sg
