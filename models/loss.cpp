#include <algorithm>
#include "models/loss.h"

#include <cmath>

#include "autograd/autograd.h"
#include "engine/nvtx.h"
#include "ops/conv2d/conv2d.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"

namespace sg {

Phase parse_phase(const std::string& name) {
  if (name == "Gmain") return Phase::Gmain;
  if (name == "Greg") return Phase::Greg;
  if (name == "Dmain") return Phase::Dmain;
  if (name == "Dreg") return Phase::Dreg;
  SG_FAIL("loss: unknown phase '", name, "' (expected Gmain, Greg, Dmain or Dreg)");
}

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::Gmain: return "Gmain";
    case Phase::Greg: return "Greg";
    case Phase::Dmain: return "Dmain";
    case Phase::Dreg: return "Dreg";
  }
  return "?";
}

LossConfig LossConfig::from_json(const nlohmann::json& j) {
  LossConfig c;
  c.style_mixing_prob = j.value("style_mixing_prob", c.style_mixing_prob);
  c.r1_gamma = j.value("r1_gamma", c.r1_gamma);
  c.pl_batch_shrink = j.value("pl_batch_shrink", c.pl_batch_shrink);
  c.pl_decay = j.value("pl_decay", c.pl_decay);
  c.pl_weight = j.value("pl_weight", c.pl_weight);
  c.ggdr_res = j.value("ggdr_res", c.ggdr_res);
  return c;
}

StyleGAN2Loss::StyleGAN2Loss(Generator& G, Discriminator& D, const LossConfig& config, RandomGenerator& rng)
    : pl_mean(Tensor::zeros({}, DType::Float32, G.parameters()[0].device())), G_(G), D_(D), config_(config), rng_(rng) {
  SG_CHECK(config.ggdr_res == 0 || config.ggdr_res == D.config().ggdr_res, "loss: ggdr_res ", config.ggdr_res,
           " needs a discriminator with a decoder up to the same resolution, got ", D.config().ggdr_res);
}

void StyleGAN2Loss::report(const std::string& name, const Tensor& values) { stats.emplace_back(name, values.detach()); }

void StyleGAN2Loss::report_logits(const std::string& kind, const Tensor& logits) {
  report("Loss/scores/" + kind, logits);
  report("Loss/signs/" + kind, sign(logits));
}

Tensor StyleGAN2Loss::run_G(const Tensor& z, const Tensor& c, Tensor* ws_out, std::map<int, Tensor>* features) {
  MappingNetwork& mapping = G_.mapping();
  Tensor ws = mapping.forward(z, c);
  if (config_.style_mixing_prob > 0) {
    // One cutoff for the whole minibatch, as official: ws after it come from another latent.
    int num_ws = mapping.config().num_ws;
    double draws[2];
    Tensor u = rand({2}, rng_, DType::Float64, Device::CPU);
    std::vector<double> v = u.to_vector();
    draws[0] = v[0];
    draws[1] = v[1];
    int cutoff = 1 + std::min(int(draws[0] * (num_ws - 1)), num_ws - 2);
    if (draws[1] >= config_.style_mixing_prob) cutoff = num_ws;
    if (cutoff < num_ws) {
      Tensor other = mapping.forward(randn(z.shape(), rng_, z.dtype(), z.device()), c, 1, -1, true);
      ws = cat({narrow(ws, 1, 0, cutoff), narrow(other, 1, cutoff, num_ws - cutoff)}, 1);
    }
  }
  SynthesisOptions options;
  options.noise_mode = config_.noise_mode;
  options.noise_rng = &rng_;
  options.features = features;
  Tensor img = G_.synthesis().forward(ws, options);
  if (ws_out) *ws_out = ws;
  return img;
}

Tensor StyleGAN2Loss::run_D(const Tensor& img, const Tensor& c, std::map<int, Tensor>* features_to_augment,
                            std::map<int, Tensor>* decoded) {
  Tensor input = augment ? augment(img, features_to_augment) : img;
  return D_.forward(input, c, decoded);
}

namespace {

// Mean over pixels and batch of the channel-wise cosine similarity (eps 1e-8 on the product of
// the norms, as torch.nn.functional.cosine_similarity). D's decoder runs in float16 where its
// blocks do, G's features are float32: mixed inputs are computed in the wider type, as torch
// promotes them.
Tensor mean_cosine_similarity(Tensor a, Tensor b) {
  if (a.dtype() != b.dtype()) {
    DType wide = dtype_size(a.dtype()) >= dtype_size(b.dtype()) ? a.dtype() : b.dtype();
    a = cast(a, wide);
    b = cast(b, wide);
  }
  Tensor dot = sum(mul(a, b), {1});
  Tensor norms = mul(sum(square(a), {1}), sum(square(b), {1}));
  return mean(div(dot, sqrt(clamp(norms, 1e-16, INFINITY))));
}

}  // namespace

void StyleGAN2Loss::accumulate_gradients(Phase phase, const Tensor& real_img, const Tensor& real_c,
                                         const Tensor& gen_z, const Tensor& gen_c, double gain) {
  NvtxRange range(phase_name(phase));
  bool g_phase = phase == Phase::Gmain || phase == Phase::Greg;
  G_.set_requires_grad(g_phase);
  D_.set_requires_grad(!g_phase);

  if (phase == Phase::Gmain) {
    Tensor img = run_G(gen_z, gen_c, nullptr, nullptr);
    Tensor logits = run_D(img, gen_c, nullptr, nullptr);
    report_logits("fake", logits);
    Tensor loss = softplus(neg(logits));
    report("Loss/G/loss", loss);
    backward(mul(mean(loss), gain));
    return;
  }

  if (phase == Phase::Greg) {
    int64_t batch = std::max<int64_t>(gen_z.size(0) / config_.pl_batch_shrink, 1);
    Tensor ws;
    Tensor c = gen_c.defined() && gen_c.numel() > 0 ? narrow(gen_c, 0, 0, batch) : gen_c;
    Tensor img = run_G(narrow(gen_z, 0, 0, batch), c, &ws, nullptr);
    if (pl_mean.device() != img.device()) pl_mean = raw::to(pl_mean, DType::Float32, img.device());
    Tensor draw = pl_noise_source ? pl_noise_source(img.shape()) : randn(img.shape(), rng_, img.dtype(), img.device());
    Tensor noise = mul(draw, 1 / std::sqrt(double(img.size(2) * img.size(3))));
    Tensor pl_grads;
    {
      NoWeightGradientsGuard no_weight_grads;
      GradOptions options;
      options.create_graph = true;
      pl_grads = grad({sum(mul(img, noise))}, {ws}, {}, options)[0];
    }
    Tensor pl_lengths = sqrt(mean(sum(square(pl_grads), {2}), {1}));
    // The updated mean stays attached to the graph inside the penalty, as official.
    Tensor updated_mean = lerp(pl_mean, mean(pl_lengths), config_.pl_decay);
    pl_mean = updated_mean.detach();
    Tensor penalty = square(sub(pl_lengths, updated_mean));
    report("Loss/pl_penalty", penalty);
    Tensor loss = mul(penalty, config_.pl_weight);
    report("Loss/G/reg", loss);
    backward(mul(mean(loss), gain));
    return;
  }

  if (phase == Phase::Dmain) {
    {
      std::map<int, Tensor> g_features, decoded;
      Tensor img;
      {
        NoGradGuard frozen_generator;  // G is not trained here; nothing of it is recorded
        img = run_G(gen_z, gen_c, nullptr, config_.ggdr_res > 0 ? &g_features : nullptr);
      }
      std::map<int, Tensor> target;
      if (config_.ggdr_res > 0) target[config_.ggdr_res] = g_features.at(config_.ggdr_res);
      Tensor logits = run_D(img, gen_c, config_.ggdr_res > 0 ? &target : nullptr,
                            config_.ggdr_res > 0 ? &decoded : nullptr);
      report_logits("fake", logits);
      Tensor loss = mean(softplus(logits));
      if (config_.ggdr_res > 0) {
        Tensor similarity = mean_cosine_similarity(decoded.at(config_.ggdr_res), target.at(config_.ggdr_res));
        Tensor ggdr = mul(add(neg(similarity), 1.0), config_.ggdr_weight);
        report("Loss/D/loss_gen_reg", ggdr);
        loss = add(loss, ggdr);
      }
      backward(mul(loss, gain));
    }
    Tensor logits = run_D(real_img.detach(), real_c, nullptr, nullptr);
    report_logits("real", logits);
    Tensor loss = softplus(neg(logits));
    report("Loss/D/loss", loss);
    backward(mul(mean(loss), gain));
    return;
  }

  Tensor real = set_requires_grad(real_img.detach(), true);
  Tensor logits = run_D(real, real_c, nullptr, nullptr);
  report_logits("real", logits);
  Tensor r1_grads;
  {
    NoWeightGradientsGuard no_weight_grads;
    GradOptions options;
    options.create_graph = true;
    r1_grads = grad({sum(logits)}, {real}, {}, options)[0];
  }
  Tensor penalty = sum(square(r1_grads), {1, 2, 3});
  report("Loss/r1_penalty", penalty);
  Tensor loss = mul(penalty, config_.r1_gamma / 2);
  report("Loss/D/reg", loss);
  backward(mul(mean(loss), gain));
}

}  // namespace sg
