// upfirdn2d API: filter set-up, argument checks, dispatch, the backward, and the padding helpers.
#include "ops/upfirdn2d/upfirdn2d.h"

#include <cmath>

#include "autograd/autograd.h"
#include "engine/nvtx.h"
#include "ops/elementwise/elementwise.h"
#include "ops/shape/shape.h"

namespace sg {

Tensor setup_filter(const Tensor& f_in, bool normalize, bool flip_filter, double gain, int separable) {
  Tensor f = f_in.defined() ? raw::contiguous(raw::to(f_in, DType::Float64, Device::CPU))
                            : Tensor::ones({1}, DType::Float64);
  if (f.dim() == 0) f = raw::reshape(f, {1});
  SG_CHECK(f.dim() == 1 || f.dim() == 2, "setup_filter: expected a 1-D or 2-D filter, got shape ", shape_str(f.shape()));
  SG_CHECK(f.numel() > 0, "setup_filter: the filter is empty");
  bool keep_1d = separable < 0 ? (f.dim() == 1 && f.numel() >= 8) : separable == 1;
  SG_CHECK(!keep_1d || f.dim() == 1, "setup_filter: a 2-D filter cannot be made separable");
  std::vector<double> v = f.to_vector();
  Shape shape = f.shape();
  if (f.dim() == 1 && !keep_1d) {  // outer product
    std::vector<double> outer(v.size() * v.size());
    for (size_t i = 0; i < v.size(); ++i)
      for (size_t j = 0; j < v.size(); ++j) outer[i * v.size() + j] = v[i] * v[j];
    v = outer;
    shape = {int64_t(f.numel()), int64_t(f.numel())};
  }
  if (normalize) {
    double total = 0;
    for (double t : v) total += t;
    SG_CHECK(total != 0, "setup_filter: cannot normalise a filter whose taps sum to zero");
    for (double& t : v) t /= total;
  }
  if (flip_filter) std::reverse(v.begin(), v.end());  // reversing the flat taps flips every axis
  double scale = std::pow(gain, double(shape.size()) / 2);
  for (double& t : v) t *= scale;
  return Tensor::from_vector(v, shape, DType::Float32, Device::CPU);
}

Tensor setup_filter(const std::vector<double>& taps, bool normalize, bool flip_filter, double gain, int separable) {
  return setup_filter(Tensor::from_vector(taps, {int64_t(taps.size())}, DType::Float64), normalize, flip_filter, gain,
                      separable);
}

UpFirDnParams upfirdn2d_params(const Tensor& x, const Tensor& f, Int2 up, Int2 down, Pad4 pad, bool flip_filter) {
  UpFirDnParams p{};
  p.N = int(x.size(0));
  p.C = int(x.size(1));
  p.in_h = int(x.size(2));
  p.in_w = int(x.size(3));
  p.stride_n = x.stride(0);
  p.stride_c = x.stride(1);
  p.stride_h = x.stride(2);
  p.stride_w = x.stride(3);
  p.up_x = up.x;
  p.up_y = up.y;
  p.down_x = down.x;
  p.down_y = down.y;
  p.pad_x0 = pad.x0;
  p.pad_x1 = pad.x1;
  p.pad_y0 = pad.y0;
  p.pad_y1 = pad.y1;
  p.separable = f.dim() == 1;
  p.filter_h = int(f.size(0));
  p.filter_w = int(f.size(-1));
  p.flip_filter = flip_filter;
  p.out_h = (p.in_h * p.up_y + p.pad_y0 + p.pad_y1 - p.filter_h + p.down_y) / p.down_y;
  p.out_w = (p.in_w * p.up_x + p.pad_x0 + p.pad_x1 - p.filter_w + p.down_x) / p.down_x;
  SG_CHECK(p.out_h > 0 && p.out_w > 0, "upfirdn2d: output would be empty: input ", shape_str(x.shape()), ", filter ",
           shape_str(f.shape()), ", up ", to_string(up), ", down ", to_string(down), ", padding ", to_string(pad));
  return p;
}

namespace {

// The op on checked arguments; records its backward (another upfirdn2d with the adjoint
// parameters, as official).
Tensor upfirdn2d_op(const Tensor& x, const Tensor& f, Int2 up, Int2 down, Pad4 pad, bool flip_filter, double gain) {
  UpFirDnParams p = upfirdn2d_params(x, f, up, down, pad, flip_filter);
  DType compute = x.dtype() == DType::Float64 ? DType::Float64 : DType::Float32;
  // The gain is folded into the filter (gain^(ndim/2): sqrt per pass when separable) in the
  // filter's own precision before the conversion, as the official reference does: float32
  // filters round there (e.g. for gain 1.5).
  Tensor scaled_filter;
  {
    NoGradGuard no_grad;
    scaled_filter = gain == 1 ? f.detach() : mul(f.detach(), f.dim() == 1 ? std::sqrt(gain) : gain);
  }
  Tensor y;
  if (x.device() == Device::CPU && is_half(x.dtype())) {
    Tensor wide = raw::to(x, DType::Float32, Device::CPU);
    UpFirDnParams pw = upfirdn2d_params(wide, f, up, down, pad, flip_filter);
    Tensor out = Tensor::empty({p.N, p.C, p.out_h, p.out_w}, DType::Float32, Device::CPU);
    upfirdn2d_cpu(out, wide, raw::contiguous(raw::to(scaled_filter, compute, Device::CPU)), pw);
    y = raw::to(out, x.dtype(), Device::CPU);
  } else {
    y = Tensor::empty({p.N, p.C, p.out_h, p.out_w}, x.dtype(), x.device());
    Tensor filt = raw::contiguous(raw::to(scaled_filter, compute, x.device()));
    if (x.is_cuda())
      upfirdn2d_cuda(y, x, filt, p);
    else
      upfirdn2d_cpu(y, x, filt, p);
  }

  record("upfirdn2d", {x, f}, {y}, [f, up, down, pad, flip_filter, gain, p](const std::vector<Tensor>& g,
                                                                            const std::vector<bool>& needs) {
    SG_CHECK(!needs[1], "upfirdn2d: the filter gets no gradient (filter ", f.describe(),
             " requires one); detach it or stop asking for its gradient");
    Tensor dx;
    if (needs[0]) {
      Pad4 adjoint(p.filter_w - pad.x0 - 1, p.in_w * up.x - p.out_w * down.x + pad.x0 - up.x + 1,
                   p.filter_h - pad.y0 - 1, p.in_h * up.y - p.out_h * down.y + pad.y0 - up.y + 1);
      dx = upfirdn2d_op(g[0], f, down, up, adjoint, !flip_filter, gain);
      SG_CHECK(dx.size(2) == p.in_h && dx.size(3) == p.in_w, "upfirdn2d backward: got ", shape_str(dx.shape()),
               " for input ", p.in_h, "x", p.in_w);
    }
    return std::vector<Tensor>{dx, Tensor()};
  });
  return y;
}

}  // namespace

Tensor upfirdn2d(const Tensor& x, const Tensor& f_in, Int2 up, Int2 down, Pad4 padding, bool flip_filter, double gain) {
  NvtxRange range("upfirdn2d");
  SG_CHECK(x.dim() == 4, "upfirdn2d: expected x [N, C, H, W], got shape ", shape_str(x.shape()));
  SG_CHECK(is_floating(x.dtype()), "upfirdn2d: expected a floating x, got ", x.describe());
  SG_CHECK(up.x >= 1 && up.y >= 1 && down.x >= 1 && down.y >= 1, "upfirdn2d: expected up and down >= 1, got up ",
           to_string(up), ", down ", to_string(down));
  Tensor f = f_in.defined() ? f_in : Tensor::ones({1, 1}, DType::Float32);
  SG_CHECK(f.dim() == 1 || f.dim() == 2, "upfirdn2d: expected a 1-D or 2-D filter, got shape ", shape_str(f.shape()));
  SG_CHECK(f.numel() > 0, "upfirdn2d: the filter is empty");
  SG_CHECK(is_floating(f.dtype()), "upfirdn2d: expected a floating filter, got ", f.describe());
  return upfirdn2d_op(x, f, up, down, padding, flip_filter, gain);
}

namespace {
// Filter width and height as the padding helpers count them (a 1-D filter counts on both axes).
std::pair<int, int> filter_size(const Tensor& f) {
  if (!f.defined()) return {1, 1};
  return {int(f.size(-1)), int(f.size(0))};
}
}  // namespace

Tensor filter2d(const Tensor& x, const Tensor& f, Pad4 padding, bool flip_filter, double gain) {
  auto [fw, fh] = filter_size(f);
  Pad4 p(padding.x0 + fw / 2, padding.x1 + (fw - 1) / 2, padding.y0 + fh / 2, padding.y1 + (fh - 1) / 2);
  return upfirdn2d(x, f, 1, 1, p, flip_filter, gain);
}

Tensor upsample2d(const Tensor& x, const Tensor& f, Int2 up, Pad4 padding, bool flip_filter, double gain) {
  auto [fw, fh] = filter_size(f);
  Pad4 p(padding.x0 + (fw + up.x - 1) / 2, padding.x1 + (fw - up.x) / 2, padding.y0 + (fh + up.y - 1) / 2,
         padding.y1 + (fh - up.y) / 2);
  return upfirdn2d(x, f, up, 1, p, flip_filter, gain * up.x * up.y);
}

Tensor downsample2d(const Tensor& x, const Tensor& f, Int2 down, Pad4 padding, bool flip_filter, double gain) {
  auto [fw, fh] = filter_size(f);
  Pad4 p(padding.x0 + (fw - down.x + 1) / 2, padding.x1 + (fw - down.x) / 2, padding.y0 + (fh - down.y + 1) / 2,
         padding.y1 + (fh - down.y) / 2);
  return upfirdn2d(x, f, 1, down, p, flip_filter, gain);
}

}  // namespace sg
