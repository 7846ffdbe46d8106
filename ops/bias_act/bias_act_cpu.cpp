// CPU reference loop of bias_act in all three modes (channel indexing as the CUDA kernel's).
#include "ops/bias_act/bias_act_math.h"

namespace sg {

void bias_act_cpu(const Tensor& out, const Tensor& in, const Tensor& b, const Tensor& xref, const Tensor& yref,
                  const Tensor& dy, const BiasActParams& p) {
  SG_DISPATCH_FLOAT_CPU(in.dtype(), "bias_act", [&] {
    const scalar_t* pin = in.data<scalar_t>();
    const scalar_t* pb = b.defined() ? b.data<scalar_t>() : nullptr;
    const scalar_t* px = xref.defined() ? xref.data<scalar_t>() : nullptr;
    const scalar_t* py = yref.defined() ? yref.data<scalar_t>() : nullptr;
    const scalar_t* pdy = dy.defined() ? dy.data<scalar_t>() : nullptr;
    scalar_t* o = out.data<scalar_t>();
    const BiasIndex channel(p);
    for (int64_t i = 0; i < p.n; ++i) {
      scalar_t bias = pb ? pb[channel(i)] : scalar_t(0);
      o[i] = bias_act_element<scalar_t>(p, pin[i], bias, px ? px[i] : scalar_t(0), py ? py[i] : scalar_t(0),
                                        pdy ? pdy[i] : scalar_t(1));
    }
  });
}

}  // namespace sg
