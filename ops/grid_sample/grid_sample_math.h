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

// The top-left neighbour (x0, y0) of a sample point and the bilinear weights along each axis.
template <class T>
struct BilinearCorner {
  int64_t x0, y0;
  T wx0, wx1, wy0, wy1;
};

// gx, gy in [-1, 1] map to pixel centres with align_corners = false: ((g + 1) * size - 1) / 2.
template <class T>
SG_HOST_DEVICE inline BilinearCorner<T> bilinear_corner(T gx, T gy, int64_t H, int64_t W) {
  T ix = ((gx + T(1)) * T(W) - T(1)) / T(2), iy = ((gy + T(1)) * T(H) - T(1)) / T(2);
  // Clamping where every neighbour is already outside changes no result, but keeps the integer
  // conversion defined for huge, infinite or NaN coordinates (those sample zero).
  ix = fmin(fmax(ix, T(-2)), T(W + 1));
  iy = fmin(fmax(iy, T(-2)), T(H + 1));
  int64_t x0 = int64_t(floor(ix)), y0 = int64_t(floor(iy));
  return {x0, y0, T(x0 + 1) - ix, ix - T(x0), T(y0 + 1) - iy, iy - T(y0)};
}

template <class T>
SG_HOST_DEVICE inline Bilinear<T> bilinear_footprint(T gx, T gy, int64_t H, int64_t W) {
  const BilinearCorner<T> c = bilinear_corner(gx, gy, H, W);
  const int64_t xs[4] = {c.x0, c.x0 + 1, c.x0, c.x0 + 1}, ys[4] = {c.y0, c.y0, c.y0 + 1, c.y0 + 1};
  const T ws[4] = {c.wx0 * c.wy0, c.wx1 * c.wy0, c.wx0 * c.wy1, c.wx1 * c.wy1};
  Bilinear<T> b;
  for (int k = 0; k < 4; ++k) {
    bool inside = xs[k] >= 0 && xs[k] < W && ys[k] >= 0 && ys[k] < H;
    b.index[k] = inside ? ys[k] * W + xs[k] : -1;
    b.weight[k] = inside ? ws[k] : T(0);
  }
  return b;
}

}  // namespace sg
