#include <algorithm>
#include "models/networks.h"

#include <cmath>

#include "autograd/autograd.h"
#include "engine/nvtx.h"
#include "engine/rng.h"
#include "ops/conv2d_resample/conv2d_resample.h"
#include "ops/elementwise/elementwise.h"
#include "ops/matmul/matmul.h"
#include "ops/modulated_conv2d/modulated_conv2d.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"
#include "ops/upfirdn2d/upfirdn2d.h"

namespace sg {

namespace {

const double kSqrtHalf = std::sqrt(0.5);

Tensor default_resample_filter() { return setup_filter(std::vector<double>{1, 3, 3, 1}); }

int log2_exact(int value, const char* what) {
  int log = 0;
  while ((1 << log) < value) ++log;
  SG_CHECK(value >= 4 && (1 << log) == value, what, ": resolution must be a power of two >= 4, got ", value);
  return log;
}

std::optional<double> scaled(const std::optional<double>& clamp, double gain) {
  return clamp ? std::optional<double>(*clamp * gain) : std::nullopt;
}

std::optional<double> optional_number(const nlohmann::json& j, const char* key, std::optional<double> fallback) {
  if (!j.contains(key)) return fallback;
  if (j.at(key).is_null()) return std::nullopt;
  return j.at(key).get<double>();
}

}  // namespace

NoiseMode parse_noise_mode(const std::string& name) {
  if (name == "random") return NoiseMode::Random;
  if (name == "const") return NoiseMode::Const;
  if (name == "none") return NoiseMode::None;
  SG_FAIL("noise mode: expected random, const or none, got '", name, "'");
}

Tensor normalize_2nd_moment(const Tensor& x) { return mul(x, rsqrt(add(mean(square(x), {1}, true), 1e-8))); }

Tensor minibatch_std(const Tensor& x, int group_size, int num_channels) {
  int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  int64_t G = std::min<int64_t>(group_size, N);
  int64_t F = num_channels;
  SG_CHECK(N % G == 0, "minibatch_std: batch ", N, " is not divisible by the group size ", G);
  SG_CHECK(C % F == 0, "minibatch_std: channels ", C, " are not divisible by num_channels ", F);
  Tensor y = reshape(x, {G, -1, F, C / F, H, W});  // group member g of slot j: sample g * (N/G) + j
  y = sub(y, mean(y, {0}));
  y = mean(square(y), {0});
  y = sqrt(add(y, 1e-8));
  y = mean(y, {2, 3, 4});
  y = reshape(y, {-1, F, 1, 1});
  y = repeat(y, {G, 1, H, W});
  return cat({x, y}, 1);
}

// ---------------------------------------------------------------------------------------------

FullyConnectedLayer::FullyConnectedLayer(int in_features, int out_features, bool bias, Activation activation,
                                         double lr_multiplier, double bias_init)
    : activation_(activation),
      weight_gain_(lr_multiplier / std::sqrt(double(in_features))),
      bias_gain_(lr_multiplier) {
  weight_ = &register_parameter("weight", mul(randn({out_features, in_features}), 1.0 / lr_multiplier));
  if (bias) bias_ = &register_parameter("bias", Tensor::full({out_features}, bias_init));
}

Tensor FullyConnectedLayer::forward(const Tensor& x) {
  Tensor w = cast(mul(*weight_, weight_gain_), x.dtype());
  Tensor b;
  if (bias_) {
    b = cast(*bias_, x.dtype());
    if (bias_gain_ != 1) b = mul(b, bias_gain_);
  }
  if (activation_ == Activation::Linear && b.defined()) return addmm(unsqueeze(b, 0), x, transpose(w, 0, 1));
  return bias_act(matmul(x, transpose(w, 0, 1)), b, 1, activation_);
}

Conv2dLayer::Conv2dLayer(int in_channels, int out_channels, int kernel_size, Options options)
    : options_(options), padding_(kernel_size / 2), weight_gain_(1 / std::sqrt(double(in_channels * kernel_size * kernel_size))) {
  resample_filter_ = &register_buffer("resample_filter", default_resample_filter());
  weight_ = &register_parameter("weight", randn({out_channels, in_channels, kernel_size, kernel_size}));
  if (options.bias) bias_ = &register_parameter("bias", Tensor::zeros({out_channels}));
}

Tensor Conv2dLayer::forward(const Tensor& x, double gain) {
  Tensor w = cast(mul(*weight_, weight_gain_), x.dtype());
  Tensor b = bias_ ? cast(*bias_, x.dtype()) : Tensor();
  bool flip_weight = options_.up == 1;  // the up-sampling path expects the unflipped (convolution) kernel
  Tensor y = conv2d_resample(x, w, *resample_filter_, options_.up, options_.down, padding_, 1, flip_weight);
  double act_gain = activation_spec(options_.activation).def_gain * gain;
  return bias_act(y, b, 1, options_.activation, std::nullopt, act_gain, scaled(options_.conv_clamp, gain));
}

// ---------------------------------------------------------------------------------------------

MappingNetwork::MappingNetwork(const MappingConfig& config) : config_(config) {
  int embed = config.c_dim == 0 ? 0 : (config.embed_features < 0 ? config.w_dim : config.embed_features);
  int hidden = config.layer_features < 0 ? config.w_dim : config.layer_features;
  config_.embed_features = embed;
  config_.layer_features = hidden;
  if (config.c_dim > 0) embed_ = &register_module("embed", std::make_unique<FullyConnectedLayer>(config.c_dim, embed));
  for (int i = 0; i < config.num_layers; ++i) {
    int in = i == 0 ? config.z_dim + embed : hidden;
    int out = i == config.num_layers - 1 ? config.w_dim : hidden;
    layers_.push_back(&register_module("fc" + std::to_string(i),
                                       std::make_unique<FullyConnectedLayer>(in, out, true, Activation::Lrelu,
                                                                             config.lr_multiplier)));
  }
  if (config.num_ws > 0 && config.w_avg_beta) w_avg_ = &register_buffer("w_avg", Tensor::zeros({config.w_dim}));
}

Tensor MappingNetwork::forward(const Tensor& z, const Tensor& c, double truncation_psi, int truncation_cutoff,
                               bool skip_w_avg_update) {
  NvtxRange range("mapping");
  Tensor x;
  if (config_.z_dim > 0) {
    SG_CHECK(z.defined() && z.dim() == 2 && z.size(1) == config_.z_dim, "mapping: expected z [N, ", config_.z_dim,
             "], got ", z.defined() ? shape_str(z.shape()) : std::string("none"));
    x = normalize_2nd_moment(cast(z, DType::Float32));
  }
  if (config_.c_dim > 0) {
    SG_CHECK(c.defined() && c.dim() == 2 && c.size(1) == config_.c_dim, "mapping: expected c [N, ", config_.c_dim,
             "], got ", c.defined() ? shape_str(c.shape()) : std::string("none"));
    Tensor y = normalize_2nd_moment(embed_->forward(cast(c, DType::Float32)));
    x = x.defined() ? cat({x, y}, 1) : y;
  }
  for (FullyConnectedLayer* layer : layers_) x = layer->forward(x);

  if (w_avg_ && training() && !skip_w_avg_update) {
    NoGradGuard no_grad;
    w_avg_->copy_(lerp(mean(x.detach(), {0}), *w_avg_, *config_.w_avg_beta));
  }
  if (config_.num_ws > 0) x = repeat(unsqueeze(x, 1), {1, config_.num_ws, 1});
  if (truncation_psi != 1) {
    SG_CHECK(w_avg_ != nullptr, "mapping: truncation needs the tracked w_avg");
    int cutoff = config_.num_ws > 0 && truncation_cutoff >= 0 ? std::min(truncation_cutoff, config_.num_ws) : -1;
    if (cutoff < 0) {
      x = lerp(*w_avg_, x, truncation_psi);
    } else {
      Tensor head = lerp(*w_avg_, narrow(x, 1, 0, cutoff), truncation_psi);
      x = cat({head, narrow(x, 1, cutoff, config_.num_ws - cutoff)}, 1);
    }
  }
  return x;
}

// ---------------------------------------------------------------------------------------------

class SynthesisLayer : public Module {
 public:
  SynthesisLayer(int in_channels, int out_channels, int w_dim, int resolution, int up,
                 std::optional<double> conv_clamp)
      : resolution_(resolution), up_(up), conv_clamp_(conv_clamp) {
    affine_ = &register_module("affine", std::make_unique<FullyConnectedLayer>(w_dim, in_channels, true,
                                                                              Activation::Linear, 1, 1));
    resample_filter_ = &register_buffer("resample_filter", default_resample_filter());
    weight_ = &register_parameter("weight", randn({out_channels, in_channels, 3, 3}));
    bias_ = &register_parameter("bias", Tensor::zeros({out_channels}));
    noise_const_ = &register_buffer("noise_const", randn({resolution, resolution}));
    noise_strength_ = &register_parameter("noise_strength", Tensor::zeros({}));
  }

  Tensor forward(const Tensor& x, const Tensor& w, const SynthesisOptions& options, bool fused_modconv, double gain = 1) {
    Tensor styles = affine_->forward(w);
    Tensor noise;
    NoiseMode noise_mode = options.noise_mode;
    if (noise_mode == NoiseMode::Random) {
      RandomGenerator& gen = options.noise_rng ? *options.noise_rng : default_generator();
      noise = mul(randn({x.size(0), 1, resolution_, resolution_}, gen, DType::Float32, x.device()), *noise_strength_);
    } else if (noise_mode == NoiseMode::Const) {
      noise = mul(*noise_const_, *noise_strength_);
    }
    ModulatedConvOptions o;
    o.up = up_;
    o.padding = 1;
    o.flip_weight = up_ == 1;
    o.fused_modconv = fused_modconv;
    Tensor y = modulated_conv2d(x, *weight_, styles, noise, *resample_filter_, o);
    double act_gain = activation_spec(Activation::Lrelu).def_gain * gain;
    return bias_act(y, cast(*bias_, y.dtype()), 1, Activation::Lrelu, std::nullopt, act_gain, scaled(conv_clamp_, gain));
  }

 private:
  int resolution_, up_;
  std::optional<double> conv_clamp_;
  FullyConnectedLayer* affine_;
  Tensor *resample_filter_, *weight_, *bias_, *noise_const_, *noise_strength_;
};

class ToRGBLayer : public Module {
 public:
  ToRGBLayer(int in_channels, int out_channels, int w_dim, std::optional<double> conv_clamp)
      : conv_clamp_(conv_clamp), weight_gain_(1 / std::sqrt(double(in_channels))) {
    affine_ = &register_module("affine", std::make_unique<FullyConnectedLayer>(w_dim, in_channels, true,
                                                                              Activation::Linear, 1, 1));
    weight_ = &register_parameter("weight", randn({out_channels, in_channels, 1, 1}));
    bias_ = &register_parameter("bias", Tensor::zeros({out_channels}));
  }

  Tensor forward(const Tensor& x, const Tensor& w, bool fused_modconv) {
    Tensor styles = mul(affine_->forward(w), weight_gain_);
    ModulatedConvOptions o;
    o.demodulate = false;
    o.fused_modconv = fused_modconv;
    Tensor y = modulated_conv2d(x, *weight_, styles, Tensor(), Tensor(), o);
    return bias_act(y, cast(*bias_, y.dtype()), 1, Activation::Linear, std::nullopt, std::nullopt, conv_clamp_);
  }

 private:
  std::optional<double> conv_clamp_;
  double weight_gain_;
  FullyConnectedLayer* affine_;
  Tensor *weight_, *bias_;
};

class SynthesisBlock : public Module {
 public:
  SynthesisBlock(int in_channels, int out_channels, int resolution, bool is_last, bool use_fp16,
                 const SynthesisConfig& config)
      : in_channels_(in_channels), resolution_(resolution), is_last_(is_last), use_fp16_(use_fp16),
        architecture_(config.architecture) {
    resample_filter_ = &register_buffer("resample_filter", default_resample_filter());
    if (in_channels == 0) {
      const_ = &register_parameter("const", randn({out_channels, resolution, resolution}));
    } else {
      conv0_ = &register_module("conv0", std::make_unique<SynthesisLayer>(in_channels, out_channels, config.w_dim,
                                                                         resolution, 2, config.conv_clamp));
      ++num_conv;
    }
    conv1_ = &register_module("conv1", std::make_unique<SynthesisLayer>(out_channels, out_channels, config.w_dim,
                                                                       resolution, 1, config.conv_clamp));
    ++num_conv;
    if (is_last || architecture_ == "skip") {
      torgb_ = &register_module("torgb", std::make_unique<ToRGBLayer>(out_channels, config.img_channels, config.w_dim,
                                                                     config.conv_clamp));
      ++num_torgb;
    }
    if (in_channels != 0 && architecture_ == "resnet") {
      Conv2dLayer::Options o;
      o.bias = false;
      o.up = 2;
      skip_ = &register_module("skip", std::make_unique<Conv2dLayer>(in_channels, out_channels, 1, o));
    }
  }

  // ws [N, num_conv + num_torgb, w_dim]; x and img are the previous block's outputs (undefined
  // for the first block). Returns the new (x, img).
  std::pair<Tensor, Tensor> forward(Tensor x, Tensor img, const Tensor& ws, const SynthesisOptions& options) {
    NvtxRange range(block_name_.c_str());
    DType dtype = use_fp16_ && !options.force_fp32 && ws.is_cuda() ? DType::Float16 : DType::Float32;
    int64_t batch = ws.size(0);
    bool fused = options.fused_modconv.value_or(!training() && (dtype == DType::Float32 || batch == 1));
    int w_index = 0;
    auto next_w = [&] { return select(ws, 1, w_index++); };
    if (in_channels_ == 0) {
      x = repeat(unsqueeze(cast(*const_, dtype), 0), {batch, 1, 1, 1});
      x = conv1_->forward(x, next_w(), options, fused);
    } else if (architecture_ == "resnet") {
      x = cast(x, dtype);
      Tensor y = skip_->forward(x, kSqrtHalf);
      x = conv0_->forward(x, next_w(), options, fused);
      x = conv1_->forward(x, next_w(), options, fused, kSqrtHalf);
      x = add(y, x);
    } else {
      x = cast(x, dtype);
      x = conv0_->forward(x, next_w(), options, fused);
      x = conv1_->forward(x, next_w(), options, fused);
    }
    if (options.features) (*options.features)[resolution_] = cast(x, DType::Float32);
    if (img.defined()) img = upsample2d(img, *resample_filter_);
    if (torgb_) {
      Tensor y = cast(torgb_->forward(x, next_w(), fused), DType::Float32);
      img = img.defined() ? add(img, y) : y;
    }
    return {x, img};
  }

  int num_conv = 0, num_torgb = 0;
  std::string block_name_;

 private:
  int in_channels_, resolution_;
  bool is_last_, use_fp16_;
  std::string architecture_;
  Tensor *resample_filter_, *const_ = nullptr;
  SynthesisLayer *conv0_ = nullptr, *conv1_ = nullptr;
  ToRGBLayer* torgb_ = nullptr;
  Conv2dLayer* skip_ = nullptr;
};

SynthesisNetwork::SynthesisNetwork(const SynthesisConfig& config) : config_(config) {
  int log_res = log2_exact(config.img_resolution, "synthesis");
  SG_CHECK(config.architecture == "orig" || config.architecture == "skip" || config.architecture == "resnet",
           "synthesis: architecture must be orig, skip or resnet, got '", config.architecture, "'");
  int fp16_resolution = std::max(1 << std::max(log_res + 1 - config.num_fp16_res, 0), 8);
  for (int res = 4; res <= config.img_resolution; res *= 2) {
    int in = res > 4 ? config.channels(res / 2) : 0;
    bool is_last = res == config.img_resolution;
    auto block = std::make_unique<SynthesisBlock>(in, config.channels(res), res, is_last, res >= fp16_resolution, config);
    block->block_name_ = "synthesis.b" + std::to_string(res);
    num_ws_ += block->num_conv + (is_last ? block->num_torgb : 0);
    blocks_.push_back(&register_module("b" + std::to_string(res), std::move(block)));
  }
}

SynthesisNetwork::~SynthesisNetwork() = default;

Tensor SynthesisNetwork::forward(const Tensor& ws, const SynthesisOptions& options) {
  NvtxRange range("synthesis");
  SG_CHECK(ws.dim() == 3 && ws.size(1) == num_ws_ && ws.size(2) == config_.w_dim, "synthesis: expected ws [N, ",
           num_ws_, ", ", config_.w_dim, "], got ", shape_str(ws.shape()));
  Tensor x, img;
  int w_index = 0;
  for (SynthesisBlock* block : blocks_) {
    // Each block reads num_conv + num_torgb ws but advances by num_conv: a block's toRGB shares
    // its w with the next block's first convolution.
    Tensor block_ws = narrow(ws, 1, w_index, block->num_conv + block->num_torgb);
    w_index += block->num_conv;
    std::tie(x, img) = block->forward(x, img, block_ws, options);
  }
  return img;
}

// ---------------------------------------------------------------------------------------------

GeneratorConfig GeneratorConfig::from_json(const nlohmann::json& j) {
  GeneratorConfig c;
  c.z_dim = j.value("z_dim", c.z_dim);
  c.c_dim = j.value("c_dim", c.c_dim);
  c.w_dim = j.value("w_dim", c.w_dim);
  c.img_resolution = j.at("img_resolution");
  c.img_channels = j.value("img_channels", c.img_channels);
  nlohmann::json m = j.value("mapping_kwargs", nlohmann::json::object());
  c.mapping.num_layers = m.value("num_layers", c.mapping.num_layers);
  c.mapping.lr_multiplier = m.value("lr_multiplier", c.mapping.lr_multiplier);
  c.mapping.w_avg_beta = optional_number(m, "w_avg_beta", c.mapping.w_avg_beta);
  if (m.contains("embed_features") && !m.at("embed_features").is_null()) c.mapping.embed_features = m.at("embed_features");
  if (m.contains("layer_features") && !m.at("layer_features").is_null()) c.mapping.layer_features = m.at("layer_features");
  nlohmann::json s = j.value("synthesis_kwargs", nlohmann::json::object());
  c.synthesis.channel_base = s.value("channel_base", c.synthesis.channel_base);
  c.synthesis.channel_max = s.value("channel_max", c.synthesis.channel_max);
  c.synthesis.num_fp16_res = s.value("num_fp16_res", c.synthesis.num_fp16_res);
  c.synthesis.conv_clamp = optional_number(s, "conv_clamp", c.synthesis.conv_clamp);
  c.synthesis.architecture = s.value("architecture", c.synthesis.architecture);
  return c;
}

nlohmann::json GeneratorConfig::to_json() const {
  nlohmann::json mapping_kwargs = {{"num_layers", mapping.num_layers}, {"lr_multiplier", mapping.lr_multiplier}};
  mapping_kwargs["w_avg_beta"] = mapping.w_avg_beta ? nlohmann::json(*mapping.w_avg_beta) : nlohmann::json(nullptr);
  nlohmann::json synthesis_kwargs = {{"channel_base", synthesis.channel_base}, {"channel_max", synthesis.channel_max},
                                     {"num_fp16_res", synthesis.num_fp16_res}, {"architecture", synthesis.architecture}};
  synthesis_kwargs["conv_clamp"] = synthesis.conv_clamp ? nlohmann::json(*synthesis.conv_clamp) : nlohmann::json(nullptr);
  return {{"z_dim", z_dim}, {"c_dim", c_dim}, {"w_dim", w_dim}, {"img_resolution", img_resolution},
          {"img_channels", img_channels}, {"mapping_kwargs", mapping_kwargs}, {"synthesis_kwargs", synthesis_kwargs}};
}

Generator::Generator(const GeneratorConfig& config) : config_(config) {
  config_.synthesis.w_dim = config.w_dim;
  config_.synthesis.img_resolution = config.img_resolution;
  config_.synthesis.img_channels = config.img_channels;
  synthesis_ = &register_module("synthesis", std::make_unique<SynthesisNetwork>(config_.synthesis));
  config_.mapping.z_dim = config.z_dim;
  config_.mapping.c_dim = config.c_dim;
  config_.mapping.w_dim = config.w_dim;
  config_.mapping.num_ws = synthesis_->num_ws();
  mapping_ = &register_module("mapping", std::make_unique<MappingNetwork>(config_.mapping));
}

Tensor Generator::forward(const Tensor& z, const Tensor& c, double truncation_psi, int truncation_cutoff,
                          const SynthesisOptions& options) {
  return synthesis_->forward(mapping_->forward(z, c, truncation_psi, truncation_cutoff), options);
}

// ---------------------------------------------------------------------------------------------

class DiscriminatorBlock : public Module {
 public:
  DiscriminatorBlock(int in_channels, int tmp_channels, int out_channels, bool use_fp16, const DiscriminatorConfig& config)
      : in_channels_(in_channels), use_fp16_(use_fp16), architecture_(config.architecture) {
    resample_filter_ = &register_buffer("resample_filter", default_resample_filter());
    Conv2dLayer::Options act;
    act.activation = Activation::Lrelu;
    act.conv_clamp = config.conv_clamp;
    if (in_channels == 0 || architecture_ == "skip")
      fromrgb_ = &register_module("fromrgb", std::make_unique<Conv2dLayer>(config.img_channels, tmp_channels, 1, act));
    conv0_ = &register_module("conv0", std::make_unique<Conv2dLayer>(tmp_channels, tmp_channels, 3, act));
    Conv2dLayer::Options down = act;
    down.down = 2;
    conv1_ = &register_module("conv1", std::make_unique<Conv2dLayer>(tmp_channels, out_channels, 3, down));
    if (architecture_ == "resnet") {
      Conv2dLayer::Options skip;
      skip.bias = false;
      skip.down = 2;
      skip_ = &register_module("skip", std::make_unique<Conv2dLayer>(tmp_channels, out_channels, 1, skip));
    }
  }

  std::pair<Tensor, Tensor> forward(Tensor x, Tensor img, bool force_fp32) {
    NvtxRange range(block_name_.c_str());
    Device device = x.defined() ? x.device() : img.device();
    DType dtype = use_fp16_ && !force_fp32 && device == Device::CUDA ? DType::Float16 : DType::Float32;
    if (x.defined()) x = cast(x, dtype);
    if (in_channels_ == 0 || architecture_ == "skip") {
      Tensor y = fromrgb_->forward(cast(img, dtype));
      x = x.defined() ? add(x, y) : y;
      img = architecture_ == "skip" ? downsample2d(cast(img, dtype), *resample_filter_) : Tensor();
    }
    if (architecture_ == "resnet") {
      Tensor y = skip_->forward(x, kSqrtHalf);
      x = conv0_->forward(x);
      x = conv1_->forward(x, kSqrtHalf);
      x = add(y, x);
    } else {
      x = conv0_->forward(x);
      x = conv1_->forward(x);
    }
    return {x, img};
  }

  std::string block_name_;

 private:
  int in_channels_;
  bool use_fp16_;
  std::string architecture_;
  Tensor* resample_filter_;
  Conv2dLayer *fromrgb_ = nullptr, *conv0_, *conv1_, *skip_ = nullptr;
};

class DiscriminatorEpilogue : public Module {
 public:
  DiscriminatorEpilogue(int in_channels, int cmap_dim, const DiscriminatorConfig& config)
      : cmap_dim_(cmap_dim), architecture_(config.architecture), mbstd_group_size_(config.mbstd_group_size),
        mbstd_num_channels_(config.mbstd_num_channels) {
    Conv2dLayer::Options act;
    act.activation = Activation::Lrelu;
    act.conv_clamp = config.conv_clamp;
    if (architecture_ == "skip") {
      Conv2dLayer::Options rgb;
      rgb.activation = Activation::Lrelu;
      fromrgb_ = &register_module("fromrgb", std::make_unique<Conv2dLayer>(config.img_channels, in_channels, 1, rgb));
    }
    conv_ = &register_module("conv", std::make_unique<Conv2dLayer>(in_channels + mbstd_num_channels_, in_channels, 3, act));
    fc_ = &register_module("fc", std::make_unique<FullyConnectedLayer>(in_channels * 16, in_channels, true, Activation::Lrelu));
    out_ = &register_module("out", std::make_unique<FullyConnectedLayer>(in_channels, cmap_dim == 0 ? 1 : cmap_dim));
  }

  Tensor forward(Tensor x, const Tensor& img, const Tensor& cmap) {
    NvtxRange range("D.b4");
    x = cast(x, DType::Float32);
    if (architecture_ == "skip") x = add(x, fromrgb_->forward(cast(img, DType::Float32)));
    if (mbstd_num_channels_ > 0) x = minibatch_std(x, mbstd_group_size_, mbstd_num_channels_);
    x = conv_->forward(x);
    x = fc_->forward(flatten(x, 1));
    x = out_->forward(x);
    if (cmap_dim_ > 0) x = mul(sum(mul(x, cmap), {1}, true), 1 / std::sqrt(double(cmap_dim_)));
    return x;
  }

 private:
  int cmap_dim_;
  std::string architecture_;
  int mbstd_group_size_, mbstd_num_channels_;
  Conv2dLayer *fromrgb_ = nullptr, *conv_;
  FullyConnectedLayer *fc_, *out_;
};

DiscriminatorConfig DiscriminatorConfig::from_json(const nlohmann::json& j) {
  DiscriminatorConfig c;
  c.c_dim = j.value("c_dim", c.c_dim);
  c.img_resolution = j.at("img_resolution");
  c.img_channels = j.value("img_channels", c.img_channels);
  c.architecture = j.value("architecture", c.architecture);
  c.channel_base = j.value("channel_base", c.channel_base);
  c.channel_max = j.value("channel_max", c.channel_max);
  c.num_fp16_res = j.value("num_fp16_res", c.num_fp16_res);
  c.conv_clamp = optional_number(j, "conv_clamp", c.conv_clamp);
  if (j.contains("cmap_dim") && !j.at("cmap_dim").is_null()) c.cmap_dim = j.at("cmap_dim");
  nlohmann::json e = j.value("epilogue_kwargs", nlohmann::json::object());
  c.mbstd_group_size = e.value("mbstd_group_size", c.mbstd_group_size);
  c.mbstd_num_channels = e.value("mbstd_num_channels", c.mbstd_num_channels);
  nlohmann::json m = j.value("mapping_kwargs", nlohmann::json::object());
  c.mapping.num_layers = m.value("num_layers", c.mapping.num_layers);
  c.mapping.lr_multiplier = m.value("lr_multiplier", c.mapping.lr_multiplier);
  c.ggdr_res = j.value("decoder_res", c.ggdr_res);
  return c;
}

nlohmann::json DiscriminatorConfig::to_json() const {
  nlohmann::json j = {{"c_dim", c_dim}, {"img_resolution", img_resolution}, {"img_channels", img_channels},
                      {"architecture", architecture}, {"channel_base", channel_base}, {"channel_max", channel_max},
                      {"num_fp16_res", num_fp16_res},
                      {"epilogue_kwargs", {{"mbstd_group_size", mbstd_group_size}, {"mbstd_num_channels", mbstd_num_channels}}},
                      {"mapping_kwargs", {{"num_layers", mapping.num_layers}, {"lr_multiplier", mapping.lr_multiplier}}}};
  j["conv_clamp"] = conv_clamp ? nlohmann::json(*conv_clamp) : nlohmann::json(nullptr);
  j["cmap_dim"] = cmap_dim < 0 ? nlohmann::json(nullptr) : nlohmann::json(cmap_dim);
  if (ggdr_res > 0) j["decoder_res"] = ggdr_res;
  return j;
}

Discriminator::Discriminator(const DiscriminatorConfig& config) : config_(config) {
  int log_res = log2_exact(config.img_resolution, "discriminator");
  SG_CHECK(config.architecture == "orig" || config.architecture == "skip" || config.architecture == "resnet",
           "discriminator: architecture must be orig, skip or resnet, got '", config.architecture, "'");
  int fp16_resolution = std::max(1 << std::max(log_res + 1 - config.num_fp16_res, 0), 8);
  int cmap_dim = config.c_dim == 0 ? 0 : (config.cmap_dim < 0 ? config.channels(4) : config.cmap_dim);
  config_.cmap_dim = config.cmap_dim;
  for (int res = config.img_resolution; res >= 8; res /= 2) {
    int in = res < config.img_resolution ? config.channels(res) : 0;
    auto block = std::make_unique<DiscriminatorBlock>(in, config.channels(res), config.channels(res / 2),
                                                      res >= fp16_resolution, config);
    block->block_name_ = "D.b" + std::to_string(res);
    blocks_.push_back(&register_module("b" + std::to_string(res), std::move(block)));
  }
  if (config.c_dim > 0) {
    MappingConfig m = config.mapping;
    m.z_dim = 0;
    m.c_dim = config.c_dim;
    m.w_dim = cmap_dim;
    m.num_ws = 0;
    m.w_avg_beta = std::nullopt;
    mapping_ = &register_module("mapping", std::make_unique<MappingNetwork>(m));
  }
  epilogue_ = &register_module("b4", std::make_unique<DiscriminatorEpilogue>(config.channels(4), cmap_dim, config));
  if (config.ggdr_res > 0) {
    SG_CHECK(config.ggdr_res >= 8 && config.ggdr_res <= config.img_resolution / 2 &&
                 (config.ggdr_res & (config.ggdr_res - 1)) == 0,
             "discriminator: ggdr_res must be a power of two in [8, ", config.img_resolution / 2, "], got ",
             config.ggdr_res);
    Conv2dLayer::Options up;
    up.up = 2;
    for (int res = 8; res <= config.ggdr_res; res *= 2) {
      int in = res == 8 ? config.channels(4) : 2 * config.channels(res / 2);
      decoder_[res] = &register_module("b" + std::to_string(res) + "_dec",
                                       std::make_unique<Conv2dLayer>(in, config.channels(res), 1, up));
    }
  }
}

Discriminator::~Discriminator() = default;

Tensor Discriminator::forward(const Tensor& img_in, const Tensor& c, std::map<int, Tensor>* decoded, bool force_fp32) {
  NvtxRange range("discriminator");
  const DiscriminatorConfig& k = config_;
  SG_CHECK(img_in.dim() == 4 && img_in.size(1) == k.img_channels && img_in.size(2) == k.img_resolution &&
               img_in.size(3) == k.img_resolution,
           "discriminator: expected images [N, ", k.img_channels, ", ", k.img_resolution, ", ", k.img_resolution,
           "], got ", shape_str(img_in.shape()));
  Tensor x, img = img_in;
  std::map<int, Tensor> features;  // block outputs by resolution, for the GGDR decoder
  int res = k.img_resolution;
  for (DiscriminatorBlock* block : blocks_) {
    std::tie(x, img) = block->forward(x, img, force_fp32);
    res /= 2;
    if (!decoder_.empty()) features[res] = x;
  }
  Tensor cmap = mapping_ ? mapping_->forward(Tensor(), c) : Tensor();
  Tensor logits = epilogue_->forward(x, img, cmap);
  if (decoded && !decoder_.empty()) {
    Tensor y;
    for (auto& [out_res, layer] : decoder_) {
      Tensor in = features[4];
      if (out_res > 8) {
        // Mixed float16/float32 inputs concatenate in float32, as PyTorch's type promotion does.
        const Tensor& skip = features[out_res / 2];
        DType dtype = y.dtype() == DType::Float32 || skip.dtype() == DType::Float32 ? DType::Float32 : y.dtype();
        in = cat({cast(y, dtype), cast(skip, dtype)}, 1);
      }
      y = layer->forward(in);
      (*decoded)[out_res] = y;
    }
  }
  return logits;
}

}  // namespace sg
