// The per-element Adam update shared by the CPU loop and the CUDA kernel.
#pragma once
#include <math.h>

#include "engine/strided.h"
#include "ops/adam/adam.h"

namespace sg {

// Returns true when g was not finite (and was replaced as nan_to_num does).
template <class T>
SG_HOST_DEVICE inline bool adam_update(T& param, T g, T& m, T& v, const AdamScalars& s) {
  bool bad = true;
  if (g != g)
    g = T(0);
  else if (g == T(INFINITY))
    g = T(1e5);
  else if (g == T(-INFINITY))
    g = T(-1e5);
  else
    bad = false;
  m = T(s.beta1) * m + (T(1) - T(s.beta1)) * g;
  v = T(s.beta2) * v + (T(1) - T(s.beta2)) * g * g;
  T denom = sqrt(v) / T(s.bias_correction2_sqrt) + T(s.eps);
  param -= T(s.step_size) * m / denom;
  return bad;
}

}  // namespace sg
