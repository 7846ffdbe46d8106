// Adaptive discriminator augmentation (stylegan2-ada-pytorch training/augment.py AugmentPipe) and
// GGDR's variant that moves the generator's feature maps along with the images (AugmentPipeGFeat).
//
// Every augmentation is drawn per image: it applies when a uniform draw is below multiplier * p.
// The order of the stages, of the random draws and the float32 arithmetic of the per-image
// matrices follow the official code, so with debug_percentile set the output matches it:
//   geometric  one inverse 3x3 matrix per image (output pixel -> input pixel, origin at the image
//              centre), executed as reflect pad -> 2x sym6 upsample -> bilinear warp -> sym6
//              downsample and crop; runs whenever a geometric multiplier is > 0, even at p = 0;
//   color      one 4x4 matrix per image applied to RGB (or L) values in [-1, 1];
//   imgfilter  a per-image 4-band equaliser, a separable 43-tap filter;
//   noise, cutout.
// Differentiable with respect to the images to any order (R1 differentiates through it); the
// parameters carry no gradient. All work runs on the images' device; the small per-image
// matrices are built on the CPU from draws of the pipe's RandomGenerator.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace sg {

// Probability multipliers (0 = off) and the official defaults of every range.
struct AugmentConfig {
  // Pixel blitting.
  double xflip = 0, rotate90 = 0, xint = 0, xint_max = 0.125;
  // General geometric transformations.
  double scale = 0, rotate = 0, aniso = 0, xfrac = 0, scale_std = 0.2, rotate_max = 1, aniso_std = 0.2,
         xfrac_std = 0.125;
  // Color transformations.
  double brightness = 0, contrast = 0, lumaflip = 0, hue = 0, saturation = 0, brightness_std = 0.2,
         contrast_std = 0.5, hue_max = 1, saturation_std = 1;
  // Image-space filtering: per-band multipliers (4 bands, low to high frequency).
  double imgfilter = 0, imgfilter_std = 1;
  std::vector<double> imgfilter_bands{1, 1, 1, 1};
  // Image-space corruptions.
  double noise = 0, cutout = 0, noise_std = 0.1, cutout_size = 0.5;

  // The official --augpipe presets: blit, geom, color, filter, noise, cutout, bg, bgc, bgcf,
  // bgcfn, bgcfnc.
  static AugmentConfig preset(const std::string& name);
  // The official keyword arguments, e.g. {"xflip": 1, "scale_std": 0.3}; unknown keys are errors.
  static AugmentConfig from_json(const nlohmann::json& kwargs);
  nlohmann::json to_json() const;

  bool any_geometric() const {
    return xflip > 0 || rotate90 > 0 || xint > 0 || scale > 0 || rotate > 0 || aniso > 0 || xfrac > 0;
  }
};

class AugmentPipe {
 public:
  // The pipe draws from `rng` (kept by reference) at every forward.
  AugmentPipe(const AugmentConfig& config, RandomGenerator& rng);

  double p = 0;  // overall augmentation probability, adjusted by AdaController
  // When set, every random parameter is replaced by this percentile of its law, as the official
  // debug_percentile does (the additive noise itself stays random).
  std::optional<double> debug_percentile;

  // images [N, C, H, W] floating, C = 1 or 3 when a color augmentation is on, H and W > 21 when
  // imgfilter is on. features (GGDR): resolution -> [N, Cf, h, w] on the images' device; each map
  // with key <= 128 is replaced by its transform under the same geometric parameters (translations
  // scaled to its own size; upsampled 2x bilinearly rather than with sym6, as GGDR does); larger
  // maps are left untouched, as in GGDR. Returns the augmented images.
  Tensor forward(const Tensor& images, std::map<int, Tensor>* features = nullptr);

  const AugmentConfig& config() const { return config_; }
  // The 4 x 43 image-filter bank built from sym2 (float32, CPU); row sums are [1, 0, 0, 0].
  const Tensor& filter_bank() const { return filter_bank_; }

 private:
  std::vector<float> uniform(int64_t n);
  std::vector<float> normal(int64_t n);

  AugmentConfig config_;
  RandomGenerator& rng_;
  Tensor geom_filter_;  // normalised sym6, 12 separable taps
  Tensor filter_bank_;  // [4, 43]
};

// The ADA heuristic: accumulate the signs of D's outputs on real images; every `interval`
// iterations move p by sign(mean - target) * batch * interval / (kimg * 1000), never below 0.
class AdaController {
 public:
  AdaController(double target = 0.6, int interval = 4, double kimg = 500, int batch = 32);

  void accumulate(const std::vector<double>& signs);
  void accumulate(const Tensor& signs);  // any shape and device
  // The adjusted p; resets the accumulated signs. Without signs since the last update p is
  // returned unchanged.
  double update(double p);
  // Mean sign used by the last update (NaN before the first).
  double last_mean() const { return last_mean_; }

  // Accumulated sums, for exact resume within an interval.
  nlohmann::json state() const;
  void set_state(const nlohmann::json& state);

  double target() const { return target_; }
  int interval() const { return interval_; }

 private:
  double target_, kimg_;
  int interval_, batch_;
  double sum_ = 0, count_ = 0;
  double last_mean_;
};

}  // namespace sg
