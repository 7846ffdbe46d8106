// StyleGAN2 / GGDR networks and loss against the official fixtures (net_*.safetensors): every
// file is rebuilt from its own metadata, so files at other resolutions or widths pass unchanged.
// Tolerance: 1e-3 of each tensor's max magnitude in float32 (the bound): float32 GEMM and
// convolution reorderings differ between BLAS/cuDNN and PyTorch, and they compound through the
// ~20 layers and the double backward of R1 and path length.
#include <nlohmann/json.hpp>

#include "autograd/autograd.h"
#include "models/loss.h"
#include "models/networks.h"
#include "ops/shape/shape.h"
#include "tests/fixtures.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

constexpr double kNetTolerance = 1e-3;

std::map<std::string, Tensor> state_with_prefix(const SafetensorsFile& file, const std::string& prefix, Device device) {
  std::map<std::string, Tensor> state;
  for (const auto& [name, t] : file.tensors)
    if (name.rfind(prefix, 0) == 0) state[name.substr(prefix.size())] = raw::to(t, t.dtype(), device);
  return state;
}

// The same networks with every block of resolution >= 8 in float16 (num_fp16_res 4), as
// training runs them on a GPU, against the float32 fixture. Tolerance 5e-2 of the tensor's
// magnitude: activations are stored with an 11-bit mantissa (relative error ~5e-4 per rounding)
// across ~10 layers of convolution, demodulation and lrelu, with float32 accumulation inside.
void check_float16_layers(test::FixtureCase& c, nlohmann::json g_kwargs, nlohmann::json d_kwargs, const LossConfig& loss) {
  constexpr double kFloat16Tolerance = 5e-2;
  g_kwargs["synthesis_kwargs"]["num_fp16_res"] = 4;
  d_kwargs["num_fp16_res"] = 4;
  Generator G(GeneratorConfig::from_json(g_kwargs));
  DiscriminatorConfig d_config = DiscriminatorConfig::from_json(d_kwargs);
  d_config.ggdr_res = loss.ggdr_res;
  Discriminator D(d_config);
  G.load_state_dict(state_with_prefix(*c.file, "G/", Device::CPU));
  D.load_state_dict(state_with_prefix(*c.file, "D/", Device::CPU));
  G.to(Device::CUDA);
  D.to(Device::CUDA);
  G.eval();
  D.eval();
  NoGradGuard no_grad;
  Tensor labels = Tensor::zeros({c.input("in/z").size(0), 0}, DType::Float32, Device::CUDA);
  SynthesisOptions options;
  options.noise_mode = loss.noise_mode;
  Tensor img = G.forward(c.input("in/z"), labels, 1, -1, options);
  c.expect_close("out/img", img, kFloat16Tolerance);
  c.expect_close("out/D_fake_logits", D.forward(c.input("out/img"), labels), kFloat16Tolerance);
  c.expect_close("out/D_real_logits", D.forward(c.input("in/real"), labels), kFloat16Tolerance);
}

void check_network_file(test::FixtureCase& c) {
  const SafetensorsFile& file = *c.file;
  Device device = c.mode.device;
  nlohmann::json g_kwargs = nlohmann::json::parse(file.metadata.at("G_kwargs"));
  nlohmann::json d_kwargs = nlohmann::json::parse(file.metadata.at("D_kwargs"));
  nlohmann::json loss_kwargs = nlohmann::json::parse(file.metadata.at("loss_kwargs"));
  LossConfig loss_config = LossConfig::from_json(loss_kwargs);
  loss_config.noise_mode = parse_noise_mode(file.metadata.at("noise_mode"));

  Generator G(GeneratorConfig::from_json(g_kwargs));
  DiscriminatorConfig d_config = DiscriminatorConfig::from_json(d_kwargs);
  d_config.ggdr_res = loss_config.ggdr_res;
  Discriminator D(d_config);
  G.load_state_dict(state_with_prefix(file, "G/", Device::CPU));
  D.load_state_dict(state_with_prefix(file, "D/", Device::CPU));
  G.to(device);
  D.to(device);

  Tensor z = c.input("in/z"), real = c.input("in/real");
  Tensor labels = Tensor::zeros({z.size(0), 0}, DType::Float32, device);
  {
    G.eval();
    D.eval();
    NoGradGuard no_grad;
    Tensor ws = G.mapping().forward(z, labels);
    c.expect_close("out/ws", ws, kNetTolerance);
    c.expect_close("out/ws_psi0.5", G.mapping().forward(z, labels, 0.5), kNetTolerance);
    std::map<int, Tensor> features;
    SynthesisOptions options;
    options.noise_mode = loss_config.noise_mode;
    options.features = &features;
    Tensor img = G.synthesis().forward(ws, options);
    c.expect_close("out/img", img, kNetTolerance);
    for (const auto& [res, f] : features)
      if (c.has("out/gfeat/" + std::to_string(res))) c.expect_close("out/gfeat/" + std::to_string(res), f, kNetTolerance);
    options.fused_modconv = false;
    options.features = nullptr;
    c.expect_close("out/img_unfused", G.synthesis().forward(ws, options), kNetTolerance);
    std::map<int, Tensor> decoded;
    c.expect_close("out/D_fake_logits", D.forward(c.input("out/img"), labels, &decoded), kNetTolerance);
    for (const auto& [res, m] : decoded)
      if (c.has("out/D_fake_fmaps/" + std::to_string(res)))
        c.expect_close("out/D_fake_fmaps/" + std::to_string(res), m, kNetTolerance);
    c.expect_close("out/D_real_logits", D.forward(real, labels), kNetTolerance);
  }

  if (device == Device::CUDA) check_float16_layers(c, g_kwargs, d_kwargs, loss_config);

  G.train();
  D.train();
  RandomGenerator rng(0);
  StyleGAN2Loss loss(G, D, loss_config, rng);
  loss.pl_noise_source = [&](const Shape& shape) {
    Tensor noise = c.input("loss/Greg/pl_noise");
    CHECK(noise.shape() == shape);
    return noise;
  };
  double gain = loss_kwargs.value("gain", 1.0);
  for (const auto& phase_name_json : nlohmann::json::parse(file.metadata.at("phase_order"))) {
    std::string phase = phase_name_json.get<std::string>();
    G.zero_grad();
    D.zero_grad();
    loss.accumulate_gradients(parse_phase(phase), real, labels, z, labels, gain);
    bool g_phase = phase[0] == 'G';
    Module& net = g_phase ? static_cast<Module&>(G) : static_cast<Module&>(D);
    std::string prefix = "loss/" + phase + "/grad/" + (g_phase ? "G/" : "D/");
    int checked = 0;
    for (auto& [name, param] : net.named_parameters()) {
      if (!c.has(prefix + name)) continue;
      // A parameter the phase's loss does not depend on gets no gradient here; the official
      // code reports zeros for it (its `x * 0` terms keep every parameter in the graph).
      Tensor g = grad_of(*param);
      c.expect_close(prefix + name, g.defined() ? g : Tensor::zeros(param->shape(), param->dtype(), param->device()),
                     kNetTolerance);
      ++checked;
    }
    if (checked == 0) c.fail("phase " + phase + ": no parameter gradients found under " + prefix);
    if (phase == "Greg") c.expect_close("loss/Greg/pl_mean_after", reshape(loss.pl_mean, {1}), kNetTolerance);
  }
  c.expect_close("loss/w_avg_after", G.mapping().w_avg(), kNetTolerance);
}

const std::vector<test::FixtureMode> kNetModes = {{Device::CPU, DType::Float32, "cpu float32"},
                                                  {Device::CUDA, DType::Float32, "cuda float32"}};
SG_REGISTER_FIXTURE("net_", check_network_file, kNetModes);

}  // namespace
