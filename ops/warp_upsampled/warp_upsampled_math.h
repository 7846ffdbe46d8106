// The sampling stencil of one output pixel of warp_upsampled, shared by the CPU loop and the CUDA
// kernel: grid_sample's four bilinear neighbours in the upsampled padded map, each of them a
// separable combination of input pixels (reflected back into the map): per axis, the 0.75/0.25
// mix of two samples (the bilinear 2x upsampling) or the taps of upsample2d's FIR filter that land
// on real samples after zero insertion. The float steps repeat the composed ops': affine_grid's
// base grid, grid_sample's footprint and accumulation order, and the upsampling along W first.
#pragma once
#include "ops/grid_sample/grid_sample_math.h"

namespace sg {

// Input samples per axis of one upsampled sample: 2 for the bilinear upsampling, (taps + 1) / 2
// for a FIR filter of up to 16 taps.
constexpr int kMaxWarpFilterTaps = 16;

// torch's reflect padding index for i in [-(n - 1), 2n - 2].
SG_HOST_DEVICE inline int64_t reflect_index(int64_t i, int64_t n) { return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i); }

// K taps along one axis, with weights, that make one sample of the upsampled map. Taps are at
// fixed positions (every array index is a compile-time constant in the unrolled loops, so a
// stencil stays in registers); one that lands on no input sample has index -1.
template <class T, int K>
struct AxisTaps {
  T weight[K];
  int64_t index[K];  // input index along the axis, or -1
};

template <class T, int K>
SG_HOST_DEVICE inline AxisTaps<T, K> no_taps() {
  AxisTaps<T, K> a;
  SG_UNROLL
  for (int m = 0; m < K; ++m) {
    a.weight[m] = T(0);
    a.index[m] = -1;
  }
  return a;
}

// Sample o of the 2x upsampled padded axis (padded = size + pad0 + pad1 samples, 0 <= o < 2 * padded).
// filter == nullptr: torch's bilinear interpolation, 0.75 of sample o / 2 and 0.25 of its neighbour
// on o's side, clamped to the padded axis. Otherwise upsample2d: zeros inserted after every sample,
// padding (taps + 1) / 2 before, true convolution with the taps, gain 2 per axis. Taps are in
// ascending filter order, as the composed upfirdn2d sums them.
template <class T, int K>
SG_HOST_DEVICE inline AxisTaps<T, K> axis_taps(int64_t o, int64_t padded, int64_t pad0, int64_t size, const T* filter,
                                               int taps) {
  AxisTaps<T, K> a = no_taps<T, K>();
  if constexpr (K >= 2) {  // dispatch_stencil_width gives the bilinear case K = 2
    if (filter == nullptr) {
      const int64_t i = o / 2;
      const int64_t i1 = o % 2 == 0 ? (i > 0 ? i - 1 : 0) : (i + 1 < padded ? i + 1 : padded - 1);
      a.weight[0] = T(0.75);
      a.index[0] = reflect_index(i - pad0, size);
      a.weight[1] = T(0.25);
      a.index[1] = reflect_index(i1 - pad0, size);
      return a;
    }
  }
  // Tap k reads position o + k - before of the zero-inserted axis: a real sample where that is
  // even, so every second tap from k0.
  const int64_t before = (taps + 1) / 2;
  const int k0 = int(((before - o) % 2 + 2) % 2);
  SG_UNROLL
  for (int m = 0; m < K; ++m) {
    const int k = k0 + 2 * m;
    const int64_t j = o + k - before;
    if (k < taps && j >= 0 && j < 2 * padded) {
      a.weight[m] = T(2) * filter[taps - 1 - k];
      a.index[m] = reflect_index(j / 2 - pad0, size);
    }
  }
  return a;
}

template <class T, int K>
struct WarpStencil {
  T weight[4];                      // grid_sample's weights of (y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1)
  bool inside[4];                   // within the upsampled padded map
  AxisTaps<T, K> rows[2], cols[2];  // the samples of rows y0, y0 + 1 and columns x0, x0 + 1
};

struct WarpGeometry {
  int64_t H, W;            // input
  int64_t pad_x0, pad_y0;  // reflect padding before each axis
  int64_t Hp, Wp;          // padded map (the upsampled map is twice as large)
  int64_t Ho, Wo;          // output
};

// t: theta of the image (6 values); base coordinates as affine_grid makes them (double, then T).
template <class T, int K>
SG_HOST_DEVICE inline WarpStencil<T, K> warp_stencil(const T* t, const WarpGeometry& g, const T* filter, int taps,
                                                     int64_t oy, int64_t ox) {
  T bx = T((2.0 * double(ox) + 1) / double(g.Wo) - 1), by = T((2.0 * double(oy) + 1) / double(g.Ho) - 1);
  T gx = bx * t[0] + by * t[1] + t[2];
  T gy = bx * t[3] + by * t[4] + t[5];
  const int64_t Hu = 2 * g.Hp, Wu = 2 * g.Wp;
  const BilinearCorner<T> c = bilinear_corner<T>(gx, gy, Hu, Wu);
  WarpStencil<T, K> s;
  const T ws[4] = {c.wx0 * c.wy0, c.wx1 * c.wy0, c.wx0 * c.wy1, c.wx1 * c.wy1};
  bool row_in[2], col_in[2];
  SG_UNROLL
  for (int k = 0; k < 2; ++k) {
    const int64_t y = c.y0 + k, x = c.x0 + k;
    row_in[k] = y >= 0 && y < Hu;
    col_in[k] = x >= 0 && x < Wu;
    s.rows[k] = row_in[k] ? axis_taps<T, K>(y, g.Hp, g.pad_y0, g.H, filter, taps) : no_taps<T, K>();
    s.cols[k] = col_in[k] ? axis_taps<T, K>(x, g.Wp, g.pad_x0, g.W, filter, taps) : no_taps<T, K>();
  }
  SG_UNROLL
  for (int k = 0; k < 4; ++k) {
    s.inside[k] = row_in[k / 2] && col_in[k % 2];
    s.weight[k] = s.inside[k] ? ws[k] : T(0);
  }
  return s;
}

// The stencil applied to one [H, W] plane.
template <class T, int K>
SG_HOST_DEVICE inline T apply_stencil(const WarpStencil<T, K>& s, const T* plane, int64_t W) {
  T acc = 0;
  SG_UNROLL
  for (int k = 0; k < 4; ++k) {
    if (!s.inside[k]) continue;
    const AxisTaps<T, K>& r = s.rows[k / 2];
    const AxisTaps<T, K>& c = s.cols[k % 2];
    T value = 0;
    SG_UNROLL
    for (int a = 0; a < K; ++a) {
      if (r.index[a] < 0) continue;
      const T* row = plane + r.index[a] * W;
      T along_x = 0;
      SG_UNROLL
      for (int b = 0; b < K; ++b)
        if (c.index[b] >= 0) along_x += c.weight[b] * row[c.index[b]];
      value += r.weight[a] * along_x;
    }
    acc += value * s.weight[k];
  }
  return acc;
}

// Calls f.template operator()<K>() for the stencil width of a call: 2 without a filter, else
// (taps + 1) / 2.
template <class F>
void dispatch_stencil_width(int taps, bool has_filter, F f) {
  switch (has_filter ? (taps + 1) / 2 : 2) {
    case 1: return f.template operator()<1>();
    case 2: return f.template operator()<2>();
    case 3: return f.template operator()<3>();
    case 4: return f.template operator()<4>();
    case 5: return f.template operator()<5>();
    case 6: return f.template operator()<6>();
    case 7: return f.template operator()<7>();
    case 8: return f.template operator()<8>();
  }
}

}  // namespace sg
