#include "ops/adam/adam_math.h"

namespace sg {

void adam_step_cpu(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const AdamScalars& s,
                   const Tensor& nonfinite_count) {
  SG_DISPATCH_FLOAT_CPU(param.dtype(), "adam", [&] {
    scalar_t *p = param.data<scalar_t>(), *pm = m.data<scalar_t>(), *pv = v.data<scalar_t>();
    const scalar_t* g = grad.data<scalar_t>();
    int64_t bad = 0;
    for (int64_t i = 0; i < param.numel(); ++i) bad += adam_update<scalar_t>(p[i], g[i], pm[i], pv[i], s);
    if (nonfinite_count.defined()) nonfinite_count.data<int64_t>()[0] += bad;
  });
}

}  // namespace sg
