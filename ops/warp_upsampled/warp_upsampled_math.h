// The sampling stencil of one output pixel of warp_upsampled, shared by the CPU loop and the CUDA
// kernel: grid_sample's four bilinear neighbours in the upsampled padded map, each of them the
// 0.75/0.25 mix of four input pixels (reflected back into the map). The float steps repeat the
// composed ops': affine_grid's base grid, grid_sample's footprint and accumulation order, and the
// upsampling's mix along W and then H.
#pragma once
#include "ops/grid_sample/grid_sample_math.h"

namespace sg {

// torch's reflect padding index for i in [-(n - 1), 2n - 2].
SG_HOST_DEVICE inline int64_t reflect_index(int64_t i, int64_t n) { return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i); }

template <class T>
struct UpsampledStencil {
  bool inside[4];
  T weight[4];          // grid_sample's bilinear weights
  int64_t source[4][4];  // per neighbour: plane offsets of (i, j), (i, j1), (i1, j), (i1, j1)
};

// t: theta of the image (6 values); base coordinates as affine_grid makes them (double, then T).
template <class T>
SG_HOST_DEVICE inline UpsampledStencil<T> upsampled_stencil(const T* t, int64_t H, int64_t W, int pad_x0, int pad_y0,
                                                            int64_t Hp, int64_t Wp, int64_t Ho, int64_t Wo, int64_t oy,
                                                            int64_t ox) {
  T bx = T((2.0 * double(ox) + 1) / double(Wo) - 1), by = T((2.0 * double(oy) + 1) / double(Ho) - 1);
  T gx = bx * t[0] + by * t[1] + t[2];
  T gy = bx * t[3] + by * t[4] + t[5];
  Bilinear<T> b = bilinear_footprint<T>(gx, gy, 2 * Hp, 2 * Wp);
  UpsampledStencil<T> s;
  for (int k = 0; k < 4; ++k) {
    s.inside[k] = b.index[k] >= 0;
    s.weight[k] = b.weight[k];
    int64_t Y = s.inside[k] ? b.index[k] / (2 * Wp) : 0, X = s.inside[k] ? b.index[k] % (2 * Wp) : 0;
    int64_t i = Y / 2, j = X / 2;
    int64_t i1 = Y % 2 == 0 ? (i > 0 ? i - 1 : 0) : (i + 1 < Hp ? i + 1 : Hp - 1);
    int64_t j1 = X % 2 == 0 ? (j > 0 ? j - 1 : 0) : (j + 1 < Wp ? j + 1 : Wp - 1);
    int64_t r0 = reflect_index(i - pad_y0, H) * W, r1 = reflect_index(i1 - pad_y0, H) * W;
    int64_t c0 = reflect_index(j - pad_x0, W), c1 = reflect_index(j1 - pad_x0, W);
    s.source[k][0] = r0 + c0;
    s.source[k][1] = r0 + c1;
    s.source[k][2] = r1 + c0;
    s.source[k][3] = r1 + c1;
  }
  return s;
}

// The stencil applied to one [H, W] plane.
template <class T>
SG_HOST_DEVICE inline T apply_stencil(const UpsampledStencil<T>& s, const T* plane) {
  T acc = 0;
#ifdef __CUDA_ARCH__
#pragma unroll
#endif
  for (int k = 0; k < 4; ++k) {
    if (!s.inside[k]) continue;
    const int64_t* src = s.source[k];
    T row0 = plane[src[0]] * T(0.75) + plane[src[1]] * T(0.25);
    T row1 = plane[src[2]] * T(0.75) + plane[src[3]] * T(0.25);
    acc += (row0 * T(0.75) + row1 * T(0.25)) * s.weight[k];
  }
  return acc;
}

}  // namespace sg
