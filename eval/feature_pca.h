// Feature maps as colour images, as in the GGDR paper's figures: the maps' channel vectors are
// projected onto their three leading principal components, which become R, G and B. Fitting the
// projection on G's feature maps and applying the same one to D's decoded maps shows at a glance
// how well the decoder reconstructs the generator's features (similar colours = similar vectors).
#pragma once
#include "engine/tensor.h"

namespace sg::eval {

struct PcaProjection {
  std::vector<double> mean;                 // [C]
  std::vector<std::vector<double>> axes;    // 3 unit vectors of length C, by decreasing variance
  std::vector<double> lo, hi;               // per-axis 1st and 99th percentile of the fitted maps

  // maps [N, C, H, W] floating, any device; fits on every pixel's channel vector.
  static PcaProjection fit(const Tensor& maps);
  // [N, C, H, W] with the fitted C -> float32 [N, 3, H, W] on the CPU in [-1, 1] (the range the
  // image writers take), each axis scaled by the fitted percentiles and clipped.
  Tensor to_rgb(const Tensor& maps) const;
};

}  // namespace sg::eval
