// The feature networks the metrics run on: Inception-v3 (FID variant) for natural images, and
// a small classifier trained on the dataset's own labels where Inception does not fit. Metric
// code sees only this interface, so the same FID/KID/PR/IS code serves both, and the net's name
// goes into metric names and cache keys so results of different detectors are never mixed.
#pragma once
#include <string>

#include "engine/tensor.h"

namespace sg::eval {

struct FeatureOutput {
  Tensor features;  // float32 [N, feature_dim]
  Tensor logits;    // float32 [N, num_classes]; undefined when the net has none
};

class FeatureNet {
 public:
  virtual ~FeatureNet() = default;
  // Short identifier: "inception" for the FID Inception-v3; another name for domain nets
  // (metrics then carry a suffix, e.g. fid50k_full_fmnist).
  virtual std::string name() const = 0;
  virtual int64_t feature_dim() const = 0;
  virtual int64_t num_classes() const = 0;  // 0 when there are no logits
  virtual Device device() const = 0;
  // images: float32 [N, C, H, W] with values in [0, 1] on device(); C is 1 or 3 (one channel
  // is repeated when the net expects three). Runs without recording gradients.
  virtual FeatureOutput forward(const Tensor& images) = 0;
};

}  // namespace sg::eval
