// One output value of resize_bilinear, shared by the CPU loop and the CUDA kernel, with torch's
// float steps (scale in the value type, the source index clamped at 0, the upper neighbour at the
// last row or column).
#pragma once
#include "engine/strided.h"
#include "ops/resize_bilinear/resize_bilinear.h"

namespace sg {

template <class T>
struct ResizeTap {
  int64_t i0, i1;
  T w0, w1;
};

template <class T>
SG_HOST_DEVICE inline ResizeTap<T> resize_tap(int64_t o, int64_t in, int64_t out) {
  T scale = T(in) / T(out);
  T src = scale * (T(o) + T(0.5)) - T(0.5);
  src = src < T(0) ? T(0) : src;
  int64_t i0 = int64_t(src);
  if (i0 > in - 1) i0 = in - 1;
  ResizeTap<T> t;
  t.i0 = i0;
  t.i1 = i0 < in - 1 ? i0 + 1 : i0;
  t.w1 = src - T(i0);
  t.w0 = T(1) - t.w1;
  return t;
}

template <class T>
SG_HOST_DEVICE inline T resize_value(const T* plane, const ResizeShape& s, int64_t oy, int64_t ox) {
  ResizeTap<T> ty = resize_tap<T>(oy, s.H, s.Ho), tx = resize_tap<T>(ox, s.W, s.Wo);
  return ty.w0 * (tx.w0 * plane[ty.i0 * s.W + tx.i0] + tx.w1 * plane[ty.i0 * s.W + tx.i1]) +
         ty.w1 * (tx.w0 * plane[ty.i1 * s.W + tx.i0] + tx.w1 * plane[ty.i1 * s.W + tx.i1]);
}

// resize_value as a functor for the plane maps.
template <class T>
struct ResizeValue {
  ResizeShape s;
  SG_HOST_DEVICE T operator()(const T* plane, int64_t oy, int64_t ox) const { return resize_value(plane, s, oy, ox); }
};

}  // namespace sg
