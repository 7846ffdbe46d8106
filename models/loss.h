// The StyleGAN2 loss (stylegan2-ada-pytorch training/loss.py) and its GGDR extension, phase by
// phase. accumulate_gradients(phase) runs one phase's forward and backward; gradients flow only
// into the phase's own network (the other's parameters are frozen for the phase) and ACCUMULATE
// into .grad, so micro-batches add up; the caller zeroes gradients between optimizer steps.
//   Gmain: softplus(-D(G(z)))                       Greg: path-length penalty * pl_weight
//   Dmain: softplus(D(G(z))) + softplus(-D(x))      Dreg: R1 = gamma/2 * |dD(x)/dx|^2
// GGDR (ggdr_res > 0) adds to Dmain's fake term 10 * (1 - cos(D decoder map, G feature map)).
#pragma once
#include <functional>
#include <map>
#include <string>

#include "engine/rng.h"
#include "models/networks.h"

namespace sg {

enum class Phase { Gmain, Greg, Dmain, Dreg };
Phase parse_phase(const std::string& name);
const char* phase_name(Phase phase);

struct LossConfig {
  double style_mixing_prob = 0.9;
  double r1_gamma = 10;
  int pl_batch_shrink = 2;
  double pl_decay = 0.01;
  double pl_weight = 2;
  int ggdr_res = 0;  // > 0: GGDR feature reconstruction at this resolution
  double ggdr_weight = 10;
  NoiseMode noise_mode = NoiseMode::Random;
  static LossConfig from_json(const nlohmann::json& kwargs);
};

// Differentiable augmentation applied to D's inputs (ADA); features, if given, get the same
// geometric transform.
using AugmentFn = std::function<Tensor(const Tensor& images, std::map<int, Tensor>* features)>;

class StyleGAN2Loss {
 public:
  StyleGAN2Loss(Generator& G, Discriminator& D, const LossConfig& config, RandomGenerator& rng);

  void accumulate_gradients(Phase phase, const Tensor& real_img, const Tensor& real_c, const Tensor& gen_z,
                            const Tensor& gen_c, double gain);

  AugmentFn augment;          // empty: no augmentation
  Tensor pl_mean;             // running path-length mean (a 0-d float32 tensor)
  // When set, Greg takes its standard-normal path-length noise from here instead of drawing it
  // (tests replay a fixture); it is scaled by 1/sqrt(H*W) as usual.
  std::function<Tensor(const Shape&)> pl_noise_source;
  // Values reported by the phases run since the caller last cleared it (loss terms, D's scores
  // and the signs of its real scores), by official name. They stay detached tensors on the
  // device, so reporting never waits for the GPU; the caller reads them once per iteration.
  std::vector<std::pair<std::string, Tensor>> stats;

 private:
  // G(z) with style mixing; fills `ws` and, when asked, the block features.
  Tensor run_G(const Tensor& z, const Tensor& c, Tensor* ws, std::map<int, Tensor>* features);
  Tensor run_D(const Tensor& img, const Tensor& c, std::map<int, Tensor>* features_to_augment,
               std::map<int, Tensor>* decoded);
  void report(const std::string& name, const Tensor& values);
  // D's scores and their signs for "fake" or "real" images (the signs of reals drive ADA).
  void report_logits(const std::string& kind, const Tensor& logits);

  Generator& G_;
  Discriminator& D_;
  LossConfig config_;
  RandomGenerator& rng_;
};

}  // namespace sg
