// The named training configurations of the official trainer (train.py cfg_specs): auto,
// stylegan2, paper256, paper512, paper1024, cifar. They fix the network widths, batch, learning
// rate, R1 gamma, EMA and mapping depth; the same rules as official derive the dependent values.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "models/loss.h"
#include "models/networks.h"

namespace sg {

struct TrainingSpec {
  std::string name;
  int ref_gpus = 1;
  int total_kimg = 25000;
  int batch = 32;            // minibatch over all GPUs
  int batch_gpu = 4;         // per-GPU minibatch (gradient accumulation splits `batch` into these)
  double learning_rate = 0.002;
  double ema_kimg = 10;
  std::optional<double> ema_rampup;
  int g_reg_interval = 4, d_reg_interval = 16;
  GeneratorConfig G;
  DiscriminatorConfig D;
  LossConfig loss;
};

std::vector<std::string> training_spec_names();
// `resolution` and `channels` come from the dataset; `gpus` matters only for `auto`.
// fp32 = true disables float16 layers and conv clamping (--fp32).
TrainingSpec make_training_spec(const std::string& name, int resolution, int channels, int c_dim = 0,
                                int gpus = 1, bool fp32 = false);

}  // namespace sg
