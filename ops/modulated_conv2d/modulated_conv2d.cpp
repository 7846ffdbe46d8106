#include "ops/modulated_conv2d/modulated_conv2d.h"

#include <cmath>

#include "engine/nvtx.h"
#include "ops/conv2d_resample/conv2d_resample.h"
#include "ops/elementwise/elementwise.h"
#include "ops/matmul/matmul.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"

namespace sg {

Tensor modulated_conv2d(const Tensor& x, const Tensor& weight, const Tensor& styles, const Tensor& noise,
                        const Tensor& resample_filter, const ModulatedConvOptions& o) {
  NvtxRange range("modulated_conv2d");
  SG_CHECK(x.dim() == 4, "modulated_conv2d: expected x [N, I, H, W], got ", shape_str(x.shape()));
  SG_CHECK(weight.dim() == 4 && weight.size(1) == x.size(1), "modulated_conv2d: expected weight [O, ", x.size(1),
           ", kh, kw], got ", shape_str(weight.shape()));
  int64_t batch = x.size(0), out_channels = weight.size(0), in_channels = weight.size(1);
  int64_t kh = weight.size(2), kw = weight.size(3);
  SG_CHECK(styles.dim() == 2 && styles.size(0) == batch && styles.size(1) == in_channels,
           "modulated_conv2d: expected styles [", batch, ", ", in_channels, "], got ", shape_str(styles.shape()));
  SG_CHECK(styles.dtype() == weight.dtype() && styles.device() == weight.device(),
           "modulated_conv2d: styles ", styles.describe(), " and weight ", weight.describe(), " differ");

  Tensor wgt = weight, sty = styles;
  if (x.dtype() == DType::Float16 && o.demodulate) {
    wgt = mul(wgt, div(Tensor::scalar(1.0 / std::sqrt(double(in_channels * kh * kw)), wgt.dtype(), wgt.device()),
                       amax(abs(wgt), {1, 2, 3}, true)));
    sty = div(sty, amax(abs(sty), {1}, true));
  }

  // dcoefs [N, O]: sum over i, kh, kw of (weight * style)^2 factors into the product of the
  // squared styles [N, I] and the weight's squared sums over the kernel [I, O]. A small GEMM
  // instead of materialising per-sample weights [N, O, I, kh, kw] (300 MB for a 512-channel 3x3
  // layer at batch 32) three times over in the forward pass and again in the backward.
  Tensor dcoefs;
  if (o.demodulate) dcoefs = rsqrt(add(matmul(square(sty), transpose(sum(square(wgt), {2, 3}), 0, 1)), 1e-8));

  if (!o.fused_modconv) {
    Tensor y = mul(x, reshape(cast(sty, x.dtype()), {batch, -1, 1, 1}));
    y = conv2d_resample(y, cast(wgt, x.dtype()), resample_filter, o.up, o.down, o.padding, 1, o.flip_weight);
    if (!o.demodulate) return noise.defined() ? add(y, cast(noise, x.dtype())) : y;
    Tensor scale = reshape(cast(dcoefs, x.dtype()), {batch, -1, 1, 1});
    return noise.defined() ? multiply_add(y, scale, cast(noise, x.dtype())) : mul(y, scale);
  }
  // Per-sample weights [N, O, I, kh, kw], written once: the [N, O, I] scales first, then one
  // broadcast multiply with the shared weight.
  Tensor scale = reshape(sty, {batch, 1, -1, 1, 1});
  if (o.demodulate) scale = mul(scale, reshape(dcoefs, {batch, -1, 1, 1, 1}));
  Tensor w = mul(unsqueeze(wgt, 0), scale);
  Tensor grouped = reshape(x, {1, batch * in_channels, x.size(2), x.size(3)});
  Tensor y = conv2d_resample(grouped, cast(reshape(w, {-1, in_channels, kh, kw}), x.dtype()), resample_filter, o.up,
                             o.down, o.padding, int(batch), o.flip_weight);
  y = reshape(y, {batch, out_channels, y.size(2), y.size(3)});
  if (noise.defined()) y = add(y, cast(noise, x.dtype()));
  return y;
}

}  // namespace sg
