#include "models/configs.h"

#include <algorithm>
#include <cmath>

namespace sg {

namespace {

struct Row {
  const char* name;
  int ref_gpus, kimg, mb, mbstd;
  double fmaps, lrate, gamma, ema;
  std::optional<double> ramp;
  int map;
};

// ref_gpus < 0 and other negative entries mark the values `auto` derives from the resolution.
const Row kRows[] = {
    {"auto", -1, 25000, -1, -1, -1, -1, -1, -1, 0.05, 2},
    {"stylegan2", 8, 25000, 32, 4, 1, 0.002, 10, 10, std::nullopt, 8},
    {"paper256", 8, 25000, 64, 8, 0.5, 0.0025, 1, 20, std::nullopt, 8},
    {"paper512", 8, 25000, 64, 8, 1, 0.0025, 0.5, 20, std::nullopt, 8},
    {"paper1024", 8, 25000, 32, 4, 1, 0.002, 2, 10, std::nullopt, 8},
    {"cifar", 2, 100000, 64, 32, 1, 0.0025, 0.01, 500, 0.05, 2},
};

}  // namespace

std::vector<std::string> training_spec_names() {
  std::vector<std::string> names;
  for (const Row& r : kRows) names.push_back(r.name);
  return names;
}

TrainingSpec make_training_spec(const std::string& name, int resolution, int channels, int c_dim, int gpus, bool fp32) {
  const Row* found = nullptr;
  for (const Row& r : kRows)
    if (name == r.name) found = &r;
  std::string known;
  for (const std::string& n : training_spec_names()) known += (known.empty() ? "" : ", ") + n;
  SG_CHECK(found, "config: unknown --cfg '", name, "' (known: ", known, ")");
  SG_CHECK(gpus >= 1, "config: gpus must be >= 1, got ", gpus);
  Row row = *found;
  if (row.ref_gpus < 0) {
    row.ref_gpus = gpus;
    row.mb = std::max(std::min(gpus * std::min(4096 / resolution, 32), 64), gpus);
    row.mbstd = std::min(row.mb / gpus, 4);
    row.fmaps = resolution >= 512 ? 1 : 0.5;
    row.lrate = resolution >= 1024 ? 0.002 : 0.0025;
    row.gamma = 0.0002 * resolution * resolution / row.mb;
    row.ema = row.mb * 10.0 / 32;
  }

  TrainingSpec spec;
  spec.name = name;
  spec.ref_gpus = row.ref_gpus;
  spec.total_kimg = row.kimg;
  spec.batch = row.mb;
  spec.batch_gpu = std::max(row.mb / row.ref_gpus, 1);
  spec.learning_rate = row.lrate;
  spec.ema_kimg = row.ema;
  spec.ema_rampup = row.ramp;

  int channel_base = int(row.fmaps * 32768);
  std::optional<double> clamp = fp32 ? std::nullopt : std::optional<double>(256);
  int fp16_res = fp32 ? 0 : 4;
  spec.G.z_dim = spec.G.w_dim = 512;
  spec.G.c_dim = c_dim;
  spec.G.img_resolution = resolution;
  spec.G.img_channels = channels;
  spec.G.mapping.num_layers = row.map;
  spec.G.synthesis.channel_base = channel_base;
  spec.G.synthesis.channel_max = 512;
  spec.G.synthesis.num_fp16_res = fp16_res;
  spec.G.synthesis.conv_clamp = clamp;

  spec.D.c_dim = c_dim;
  spec.D.img_resolution = resolution;
  spec.D.img_channels = channels;
  spec.D.channel_base = channel_base;
  spec.D.channel_max = 512;
  spec.D.num_fp16_res = fp16_res;
  spec.D.conv_clamp = clamp;
  spec.D.mbstd_group_size = row.mbstd;

  spec.loss.r1_gamma = row.gamma;
  if (name == "cifar") {
    spec.loss.pl_weight = 0;
    spec.loss.style_mixing_prob = 0;
    spec.D.architecture = "orig";
  }
  return spec;
}

}  // namespace sg
