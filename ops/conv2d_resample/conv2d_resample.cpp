#include "ops/conv2d_resample/conv2d_resample.h"

#include <algorithm>

#include "engine/nvtx.h"
#include "ops/conv2d/conv2d.h"
#include "ops/shape/shape.h"
#include "ops/upfirdn2d/upfirdn2d.h"

namespace sg {

namespace {

// conv2d or conv_transpose2d; flip_weight = false turns correlation into convolution.
Tensor conv_with_orientation(const Tensor& x, Tensor w, Int2 stride, Int2 padding, int groups, bool transpose,
                             bool flip_weight) {
  if (!flip_weight) w = flip(w, {2, 3});
  if (transpose) return conv_transpose2d(x, w, Tensor(), stride, padding, 0, groups);
  return conv2d(x, w, Tensor(), stride, padding, groups);
}

}  // namespace

Tensor conv2d_resample(const Tensor& x, const Tensor& w, const Tensor& f, int up, int down, Pad4 padding, int groups,
                       bool flip_weight, bool flip_filter) {
  NvtxRange range("conv2d_resample");
  SG_CHECK(x.dim() == 4, "conv2d_resample: expected x [N, C, H, W], got ", shape_str(x.shape()));
  SG_CHECK(w.dim() == 4, "conv2d_resample: expected w [K, C/groups, kh, kw], got ", shape_str(w.shape()));
  SG_CHECK(up >= 1 && down >= 1, "conv2d_resample: expected up, down >= 1, got up ", up, ", down ", down);
  SG_CHECK(groups >= 1 && w.size(0) % groups == 0 && x.size(1) == w.size(1) * groups, "conv2d_resample: x ",
           shape_str(x.shape()), " and w ", shape_str(w.shape()), " do not match for groups ", groups);
  SG_CHECK(!f.defined() || f.dim() == 1 || f.dim() == 2, "conv2d_resample: filter must be 1-D or 2-D, got ",
           shape_str(f.shape()));
  int64_t out_channels = w.size(0), in_per_group = w.size(1), kh = w.size(2), kw = w.size(3);
  int fw = f.defined() ? int(f.size(-1)) : 1, fh = f.defined() ? int(f.size(0)) : 1;

  int px0 = padding.x0, px1 = padding.x1, py0 = padding.y0, py1 = padding.y1;
  if (up > 1) {
    px0 += (fw + up - 1) / 2;
    px1 += (fw - up) / 2;
    py0 += (fh + up - 1) / 2;
    py1 += (fh - up) / 2;
  }
  if (down > 1) {
    px0 += (fw - down + 1) / 2;
    px1 += (fw - down) / 2;
    py0 += (fh - down + 1) / 2;
    py1 += (fh - down) / 2;
  }

  if (kw == 1 && kh == 1 && down > 1 && up == 1) {
    Tensor y = upfirdn2d(x, f, 1, down, Pad4(px0, px1, py0, py1), flip_filter);
    return conv_with_orientation(y, w, 1, 0, groups, false, flip_weight);
  }
  if (kw == 1 && kh == 1 && up > 1 && down == 1) {
    Tensor y = conv_with_orientation(x, w, 1, 0, groups, false, flip_weight);
    return upfirdn2d(y, f, up, 1, Pad4(px0, px1, py0, py1), flip_filter, double(up * up));
  }
  if (down > 1 && up == 1) {
    Tensor y = upfirdn2d(x, f, 1, 1, Pad4(px0, px1, py0, py1), flip_filter);
    return conv_with_orientation(y, w, down, 0, groups, false, flip_weight);
  }
  if (up > 1) {
    // The transposed convolution wants [C, K/groups, kh, kw]: swap the channel axes per group.
    Tensor wt = groups == 1 ? transpose(w, 0, 1)
                            : reshape(transpose(reshape(w, {groups, out_channels / groups, in_per_group, kh, kw}), 1, 2),
                                      {groups * in_per_group, out_channels / groups, kh, kw});
    px0 -= int(kw) - 1;
    px1 -= int(kw) - up;
    py0 -= int(kh) - 1;
    py1 -= int(kh) - up;
    // Padding the transposed convolution can absorb (it crops); the FIR pass takes the rest.
    int pxt = std::max(std::min(-px0, -px1), 0), pyt = std::max(std::min(-py0, -py1), 0);
    Tensor y = conv_with_orientation(x, wt, up, Int2(pxt, pyt), groups, true, !flip_weight);
    y = upfirdn2d(y, f, 1, 1, Pad4(px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt), flip_filter, double(up * up));
    if (down > 1) y = upfirdn2d(y, f, 1, down, 0, flip_filter);
    return y;
  }
  // No resampling left: symmetric padding goes to the convolution, any other padding (negative
  // or uneven) is applied first by an unfiltered upfirdn2d.
  if (px0 == px1 && py0 == py1 && px0 >= 0 && py0 >= 0)
    return conv_with_orientation(x, w, 1, Int2(px0, py0), groups, false, flip_weight);
  Tensor padded = upfirdn2d(x, Tensor(), 1, 1, Pad4(px0, px1, py0, py1));
  return conv_with_orientation(padded, w, 1, 0, groups, false, flip_weight);
}

}  // namespace sg
