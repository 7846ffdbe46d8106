// StyleGAN2 generator and discriminator with the official structure, parameter names, buffers
// and numerics (stylegan2-ada-pytorch training/networks.py; GGDR's decoder head). A state dict
// with the official keys loads unchanged. Parameters are float32; blocks at the highest
// `num_fp16_res` resolutions run in float16 on CUDA (on the CPU everything runs in float32).
#pragma once
#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "models/module.h"
#include "ops/bias_act/bias_act.h"

namespace sg {

enum class NoiseMode { Random, Const, None };
NoiseMode parse_noise_mode(const std::string& name);

// Equalised-learning-rate linear layer: weight stored as N(0,1)/lr_multiplier, scaled by
// lr_multiplier/sqrt(in) at run time; bias scaled by lr_multiplier.
class FullyConnectedLayer : public Module {
 public:
  FullyConnectedLayer(int in_features, int out_features, bool bias = true, Activation activation = Activation::Linear,
                      double lr_multiplier = 1, double bias_init = 0);
  Tensor forward(const Tensor& x);  // [N, in] -> [N, out]

 private:
  Tensor* weight_;
  Tensor* bias_ = nullptr;
  Activation activation_;
  double weight_gain_, bias_gain_;
};

// Equalised-learning-rate convolution with optional FIR up/down-sampling and a fused
// bias + activation + clamp epilogue.
class Conv2dLayer : public Module {
 public:
  struct Options {
    bool bias = true;
    Activation activation = Activation::Linear;
    int up = 1, down = 1;
    std::optional<double> conv_clamp;
  };
  Conv2dLayer(int in_channels, int out_channels, int kernel_size, Options options);
  Tensor forward(const Tensor& x, double gain = 1);

 private:
  Tensor* weight_;
  Tensor* bias_ = nullptr;
  Tensor* resample_filter_;
  Options options_;
  int padding_;
  double weight_gain_;
};

struct MappingConfig {
  int z_dim = 512, c_dim = 0, w_dim = 512;
  int num_ws = 0;  // 0: return [N, w_dim] without broadcasting
  int num_layers = 8;
  int embed_features = -1;  // -1: w_dim when conditional
  int layer_features = -1;  // -1: w_dim
  double lr_multiplier = 0.01;
  std::optional<double> w_avg_beta = 0.995;  // nullopt: no w_avg tracking
};

class MappingNetwork : public Module {
 public:
  explicit MappingNetwork(const MappingConfig& config);
  // z [N, z_dim] (may be undefined when z_dim = 0), c [N, c_dim]. In training mode the tracked
  // w_avg moves towards the batch mean unless skip_w_avg_update. truncation_cutoff < 0: all ws.
  Tensor forward(const Tensor& z, const Tensor& c, double truncation_psi = 1, int truncation_cutoff = -1,
                 bool skip_w_avg_update = false);
  const MappingConfig& config() const { return config_; }
  Tensor w_avg() const { return w_avg_ ? *w_avg_ : Tensor(); }

 private:
  MappingConfig config_;
  FullyConnectedLayer* embed_ = nullptr;
  std::vector<FullyConnectedLayer*> layers_;
  Tensor* w_avg_ = nullptr;
};

struct SynthesisConfig {
  int w_dim = 512, img_resolution = 256, img_channels = 3;
  int channel_base = 32768, channel_max = 512;
  int num_fp16_res = 0;
  std::optional<double> conv_clamp;
  std::string architecture = "skip";  // orig, skip, resnet
  int channels(int res) const { return std::min(channel_base / res, channel_max); }
};

struct SynthesisOptions {
  NoiseMode noise_mode = NoiseMode::Random;
  std::optional<bool> fused_modconv;  // unset: fused in eval mode for float32 blocks or batch 1
  bool force_fp32 = false;
  // When set, receives each block's main-path output by resolution, as float32 (GGDR targets).
  std::map<int, Tensor>* features = nullptr;
  // Source of random noise (noise_mode random); the default generator when null. Training
  // passes its own so that a resumed run draws the same noise.
  RandomGenerator* noise_rng = nullptr;
};

class SynthesisLayer;
class ToRGBLayer;
class SynthesisBlock;

class SynthesisNetwork : public Module {
 public:
  explicit SynthesisNetwork(const SynthesisConfig& config);
  ~SynthesisNetwork() override;
  Tensor forward(const Tensor& ws, const SynthesisOptions& options = {});  // ws [N, num_ws, w_dim]
  int num_ws() const { return num_ws_; }
  const SynthesisConfig& config() const { return config_; }

 private:
  SynthesisConfig config_;
  std::vector<SynthesisBlock*> blocks_;
  int num_ws_ = 0;
};

struct GeneratorConfig {
  int z_dim = 512, c_dim = 0, w_dim = 512, img_resolution = 256, img_channels = 3;
  MappingConfig mapping;      // z_dim, c_dim, w_dim, num_ws are filled in by the generator
  SynthesisConfig synthesis;  // w_dim, img_resolution, img_channels likewise
  // From the official keyword arguments, e.g. the fixtures' G_kwargs metadata.
  static GeneratorConfig from_json(const nlohmann::json& kwargs);
  nlohmann::json to_json() const;
};

class Generator : public Module {
 public:
  explicit Generator(const GeneratorConfig& config);
  Tensor forward(const Tensor& z, const Tensor& c, double truncation_psi = 1, int truncation_cutoff = -1,
                 const SynthesisOptions& options = {});
  MappingNetwork& mapping() { return *mapping_; }
  SynthesisNetwork& synthesis() { return *synthesis_; }
  const GeneratorConfig& config() const { return config_; }

 private:
  GeneratorConfig config_;
  MappingNetwork* mapping_;
  SynthesisNetwork* synthesis_;
};

struct DiscriminatorConfig {
  int c_dim = 0, img_resolution = 256, img_channels = 3;
  std::string architecture = "resnet";  // orig, skip, resnet
  int channel_base = 32768, channel_max = 512;
  int num_fp16_res = 0;
  std::optional<double> conv_clamp;
  int cmap_dim = -1;  // -1: channels(4) when conditional
  int mbstd_group_size = 4, mbstd_num_channels = 1;
  MappingConfig mapping;  // layer settings of the conditioning mapping
  int ggdr_res = 0;       // > 0: GGDR decoder heads b8_dec .. b{ggdr_res}_dec
  int channels(int res) const { return std::min(channel_base / res, channel_max); }
  static DiscriminatorConfig from_json(const nlohmann::json& kwargs);
  nlohmann::json to_json() const;
};

class DiscriminatorBlock;
class DiscriminatorEpilogue;

class Discriminator : public Module {
 public:
  explicit Discriminator(const DiscriminatorConfig& config);
  ~Discriminator() override;
  // img [N, C, H, W] float32, c [N, c_dim]; returns logits [N, 1]. With a GGDR decoder and
  // `decoded` given, also returns the decoder's maps by resolution.
  Tensor forward(const Tensor& img, const Tensor& c, std::map<int, Tensor>* decoded = nullptr,
                 bool force_fp32 = false);
  const DiscriminatorConfig& config() const { return config_; }

 private:
  DiscriminatorConfig config_;
  std::vector<DiscriminatorBlock*> blocks_;
  MappingNetwork* mapping_ = nullptr;
  DiscriminatorEpilogue* epilogue_;
  std::map<int, Conv2dLayer*> decoder_;  // GGDR: output resolution -> b{res}_dec
};

// x * rsqrt(mean(x^2 over dim 1) + 1e-8)
Tensor normalize_2nd_moment(const Tensor& x);
// The official MinibatchStdLayer: group member g of slot j is sample g * (N / G) + j.
Tensor minibatch_std(const Tensor& x, int group_size, int num_channels);

}  // namespace sg
