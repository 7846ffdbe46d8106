// The bilinear footprint of one sample point, shared by the CPU loops and the CUDA kernels:
// the four neighbouring pixels (nw, ne, sw, se) and their weights, with index -1 and weight 0 for
// pixels outside the image (zero padding). The arithmetic follows torch's CUDA grid sampler step
// by step so that float32 results round the same way.
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
  // Clamping where every neighbour is already outside changes no result, but keeps the integer
  // conversion defined for huge, infinite or NaN coordinates (those sample zero).
  ix = fmin(fmax(ix, T(-2)), T(W + 1));
  iy = fmin(fmax(iy, T(-2)), T(H + 1));
  int64_t x0 = int64_t(floor(ix)), y0 = int64_t(floor(iy));
  T wx0 = T(x0 + 1) - ix, wx1 = ix - T(x0), wy0 = T(y0 + 1) - iy, wy1 = iy - T(y0);
  const int64_t xs[4] = {x0, x0 + 1, x0, x0 + 1}, ys[4] = {y0, y0, y0 + 1, y0 + 1};
  const T ws[4] = {wx0 * wy0, wx1 * wy0, wx0 * wy1, wx1 * wy1};
  Bilinear<T> b;
  for (int k = 0; k < 4; ++k) {
    bool inside = xs[k] >= 0 && xs[k] < W && ys[k] >= 0 && ys[k] < H;
    b.index[k] = inside ? ys[k] * W + xs[k] : -1;
    b.weight[k] = inside ? ws[k] : T(0);
  }
  return b;
}

}  // namespace sg
