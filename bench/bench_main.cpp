// `make bench`: throughput of the engine's kernels on the shapes of a 256x256 StyleGAN2
// (paper256 channel counts, batch 32), each next to the device limit, and beside the simplest
// alternative where one exists. Options: --filter SUBSTRING runs only the benchmarks whose
// "<section> <name>" contains SUBSTRING (sections: elementwise, reduce, copy, matmul, upfirdn2d,
// bias_act, modconv, augment, eval, train). Without a CUDA device it says so and exits 0.
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>

#include "autograd/autograd.h"
#include "bench/bench_util.h"
#include "engine/rng.h"
#include "eval/inception.h"
#include "models/augment.h"
#include "models/configs.h"
#include "models/loss.h"
#include "models/networks.h"
#include "models/training_loop.h"
#include "ops/bias_act/bias_act.h"
#include "ops/color_transform/color_transform.h"
#include "ops/conv2d/conv2d.h"
#include "ops/elementwise/elementwise.h"
#include "ops/matmul/matmul.h"
#include "ops/modulated_conv2d/modulated_conv2d.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"
#include "ops/upfirdn2d/upfirdn2d.h"

using namespace sg;
using namespace sg::bench;

namespace {

constexpr DType kDTypes[] = {DType::Float32, DType::Float16};

std::string fixed(double value, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << value;
  return out.str();
}

std::string hbm_title(const std::string& what, const DeviceProperties& dev) {
  return str_cat(what, " (memory-bound: % of HBM bandwidth ", int(dev.memory_bandwidth_gbs), " GB/s)");
}

void elementwise_ops(const DeviceProperties& dev) {
  Table t("elementwise", hbm_title("elementwise", dev));
  double bw = dev.memory_bandwidth_gbs;
  for (DType dtype : kDTypes) {
    std::string d = dtype_name(dtype);
    Tensor a = randn({32, 512, 64, 64}, dtype, Device::CUDA), b = randn({32, 512, 64, 64}, dtype, Device::CUDA);
    Tensor bias = randn({32, 512, 1, 1}, dtype, Device::CUDA);
    t.run(str_cat("add ", d, " [32,512,64,64]"), [&] { add(a, b); }, 3 * bytes_of(a), Measure::Bytes, bw);
    t.run(str_cat("mul ", d, " [32,512,64,64] by broadcast [32,512,1,1]"), [&] { mul(a, bias); },
          2 * bytes_of(a) + bytes_of(bias), Measure::Bytes, bw);
  }
}

void reductions(const DeviceProperties& dev) {
  Table t("reduce", hbm_title("reductions", dev));
  double bw = dev.memory_bandwidth_gbs;
  for (DType dtype : kDTypes) {
    std::string d = dtype_name(dtype);
    Tensor big = randn({32, 512, 64, 64}, dtype, Device::CUDA), x = randn({32, 512, 32, 32}, dtype, Device::CUDA);
    Tensor few = randn({32, 1 << 20}, dtype, Device::CUDA), narrow = randn({1 << 22, 4}, dtype, Device::CUDA);
    t.run(str_cat("sum all ", d, " [32,512,64,64]"), [&] { sum(big); }, bytes_of(big), Measure::Bytes, bw);
    t.run(str_cat("sum dims 0,2,3 ", d, " [32,512,32,32] (bias gradient)"), [&] { sum(x, {0, 2, 3}); },
          bytes_of(x), Measure::Bytes, bw, "read in place, runs of H*W");
    Tensor batch = randn({32, 512 * 512 * 9}, dtype, Device::CUDA);
    t.run(str_cat("sum dim 0 ", d, " [32, 512*512*9] (over the batch)"), [&] { sum(batch, {0}); }, bytes_of(batch),
          Measure::Bytes, bw, "one thread per column");
    t.run(str_cat("sum rows ", d, " [32*512, 64*64] (dims 2,3)"), [&] { sum(big, {2, 3}); }, bytes_of(big),
          Measure::Bytes, bw);
    t.run(str_cat("sum rows ", d, " [32, 1048576] (few long rows)"), [&] { sum(few, {1}); }, bytes_of(few),
          Measure::Bytes, bw);
    t.run(str_cat("sum rows ", d, " [4194304, 4] (short rows)"), [&] { sum(narrow, {1}); }, bytes_of(narrow),
          Measure::Bytes, bw);
  }
  Tensor w = randn({32, 512}, DType::Float32, Device::CUDA);
  t.run("sum rows float32 [32, 512] (2nd-moment normalisation)", [&] { sum(w, {1}); }, bytes_of(w), Measure::Bytes,
        bw, "launch-bound");
}

void copies(const DeviceProperties& dev) {
  Table t("copy", hbm_title("copies", dev));
  double bw = dev.memory_bandwidth_gbs;
  for (DType dtype : kDTypes) {
    std::string d = dtype_name(dtype);
    Tensor a = randn({32, 512, 64, 64}, dtype, Device::CUDA), m = randn({8192, 8192}, dtype, Device::CUDA);
    Tensor nhwc = raw::permute(a, {0, 2, 3, 1}), mt = raw::permute(m, {1, 0});
    t.run(str_cat("copy contiguous ", d, " [32,512,64,64]"), [&] { raw::clone(a); }, 2 * bytes_of(a), Measure::Bytes,
          bw);
    t.run(str_cat("copy permuted NCHW->NHWC ", d, " [32,512,64,64]"), [&] { raw::clone(nhwc); }, 2 * bytes_of(a),
          Measure::Bytes, bw);
    t.run(str_cat("copy transposed ", d, " [8192,8192]"), [&] { raw::clone(mt); }, 2 * bytes_of(m), Measure::Bytes,
          bw);
  }
}

void matmuls(const DeviceProperties& dev) {
  Table t("matmul", str_cat("matmul (cuBLAS; float32 without TF32 vs the FP32 FMA peak ", fixed(dev.peak_fp32_tflops, 1),
                            " TFLOP/s; float16 vs the H100 dense tensor peak ", fixed(kH100Fp16TensorTflops, 0),
                            " TFLOP/s)"));
  struct Case {
    int64_t m, k, n;
    bool a_t, b_t;  // operand passed as a transposed view (as a linear layer's weight is)
    const char* what;
  };
  const Case cases[] = {
      {4096, 4096, 4096, false, false, "square"},
      {32, 512, 512, false, true, "mapping/affine layer, batch 32"},
      {8192, 512, 512, false, true, "batch 8192 through a 512 layer"},
      {512, 32, 512, true, false, "weight gradient of a batch-32 layer"},
  };
  for (const Case& c : cases) {
    for (DType dtype : kDTypes) {
      std::string name = str_cat("matmul ", dtype_name(dtype), " [", c.m, ",", c.k, "]", c.a_t ? "^T" : "", " @ [",
                                 c.k, ",", c.n, "]", c.b_t ? "^T" : "");
      if (!t.wanted(name)) continue;
      Tensor a = c.a_t ? raw::permute(randn({c.k, c.m}, dtype, Device::CUDA), {1, 0})
                       : randn({c.m, c.k}, dtype, Device::CUDA);
      Tensor b = c.b_t ? raw::permute(randn({c.n, c.k}, dtype, Device::CUDA), {1, 0})
                       : randn({c.k, c.n}, dtype, Device::CUDA);
      double peak = dtype == DType::Float16 ? kH100Fp16TensorTflops : dev.peak_fp32_tflops;
      t.run(name, [&] { matmul(a, b); }, 2.0 * double(c.m) * double(c.n) * double(c.k), Measure::Flops, peak, c.what);
    }
  }
}

void upfirdn2d_ops(const DeviceProperties& dev) {
  Table t("upfirdn2d", "upfirdn2d (paper256 shapes, batch 32; memory-bound)");
  double bw = dev.memory_bandwidth_gbs;
  Tensor f = setup_filter(std::vector<double>{1, 3, 3, 1});
  for (auto [c, res] : {std::pair<int, int>{128, 128}, {256, 64}, {64, 256}}) {
    for (DType dtype : kDTypes) {
      std::string shape = str_cat(dtype_name(dtype), " [32,", c, ",", res, ",", res, "]");
      Tensor x = randn({32, c, res, res}, dtype, Device::CUDA);
      t.run("upsample2d x2 4x4 " + shape, [&] { upsample2d(x, f); }, 5 * bytes_of(x), Measure::Bytes, bw);
      t.run("downsample2d x2 4x4 " + shape, [&] { downsample2d(x, f); }, 1.25 * bytes_of(x), Measure::Bytes, bw);
      std::string name = "filter2d 4x4 " + shape;
      if (!t.wanted(name)) continue;
      // The simplest alternative: the same FIR as a depthwise cuDNN convolution.
      Tensor w = raw::contiguous(raw::expand(raw::reshape(raw::to(f, dtype, Device::CUDA), {1, 1, 4, 4}), {c, 1, 4, 4}));
      Tensor padded = pad(x, {2, 1, 2, 1});
      double us_conv = time_us([&] { conv2d(padded, w, Tensor(), 1, 0, c); });
      t.run(name, [&] { filter2d(x, f); }, 2 * bytes_of(x), Measure::Bytes, bw,
            str_cat("cuDNN depthwise conv: ", int(us_conv), " us"));
    }
  }
}

void bias_act_ops(const DeviceProperties& dev) {
  Table t("bias_act", "bias_act (fused lrelu + gain + clamp vs separate elementwise ops; memory-bound)");
  double bw = dev.memory_bandwidth_gbs;
  for (DType dtype : kDTypes) {
    std::string d = dtype_name(dtype);
    Tensor x = randn({32, 512, 64, 64}, dtype, Device::CUDA), b = randn({512}, dtype, Device::CUDA);
    std::string name = str_cat("bias_act lrelu clamp ", d, " [32,512,64,64]");
    if (t.wanted(name)) {
      Tensor bb = reshape(b, {1, -1, 1, 1});
      double us_sep = time_us([&] { clamp(mul(leaky_relu(add(x, bb), 0.2), std::sqrt(2.0)), -256, 256); });
      t.run(name, [&] { bias_act(x, b, 1, Activation::Lrelu, std::nullopt, std::nullopt, 256.0); }, 2 * bytes_of(x),
            Measure::Bytes, bw, str_cat("separate ops: ", int(us_sep), " us"));
    }
    name = str_cat("bias_act lrelu backward ", d, " [32,512,64,64]");
    if (t.wanted(name)) {
      Tensor dy = randn(x.shape(), dtype, Device::CUDA);
      Tensor xr = set_requires_grad(raw::clone(x));
      Tensor y = bias_act(xr, b, 1, Activation::Lrelu, std::nullopt, std::nullopt, 256.0);
      t.run(name, [&] { grad({y}, {xr}, {dy}, GradOptions{false, 1, false}); }, 3 * bytes_of(x), Measure::Bytes, bw);
    }
  }
}

void modconv_ops(const DeviceProperties& dev) {
  Table t("modconv", "modulated conv 3x3, 512 ch, 32x32, batch 32, float32 without TF32 (vs FP32 FMA peak)");
  const double flops = 2.0 * 32 * 512 * 512 * 9 * 32 * 32;
  for (bool fused : {false, true}) {
    std::string kind = fused ? "fused (grouped conv)" : "unfused (shared weight)";
    if (!t.any_wanted({"modconv forward " + kind, "modconv forward+backward " + kind})) continue;
    Tensor x = set_requires_grad(randn({32, 512, 32, 32}, DType::Float32, Device::CUDA));
    Tensor w = set_requires_grad(randn({512, 512, 3, 3}, DType::Float32, Device::CUDA));
    Tensor s = set_requires_grad(randn({32, 512}, DType::Float32, Device::CUDA));
    ModulatedConvOptions o;
    o.padding = 1;
    o.fused_modconv = fused;
    t.run("modconv forward " + kind, [&] { modulated_conv2d(x, w, s, Tensor(), Tensor(), o); }, flops, Measure::Flops,
          dev.peak_fp32_tflops, "", 2, 10);
    t.run("modconv forward+backward " + kind, [&] {
      Tensor y = modulated_conv2d(x, w, s, Tensor(), Tensor(), o);
      grad({sum(y)}, {x, w, s});
    }, 3 * flops, Measure::Flops, dev.peak_fp32_tflops, "", 2, 10);
  }
}

void training_step() {
  const std::vector<Phase> phases = {Phase::Gmain, Phase::Greg, Phase::Dmain, Phase::Dreg};
  std::vector<std::string> names;
  for (Phase phase : phases) names.push_back(str_cat("phase ", phase_name(phase)));
  Table t("train", "");
  if (!t.any_wanted(names)) return;
  std::cout << "\n## one training iteration of paper256 G and D (batch 32 per round, no augmentation)\n";
  TrainingSpec spec = make_training_spec("paper256", 256, 3);
  Generator G(spec.G);
  Discriminator D(spec.D);
  G.to(Device::CUDA);
  D.to(Device::CUDA);
  RandomGenerator rng(1);
  StyleGAN2Loss loss(G, D, spec.loss, rng);
  int64_t batch = 32;
  Tensor real = randn({batch, 3, 256, 256}, DType::Float32, Device::CUDA);
  Tensor c = Tensor::zeros({batch, 0}, DType::Float32, Device::CUDA);
  // Lazy regularisation: Greg runs every 4th and Dreg every 16th minibatch.
  std::map<Phase, double> per_minibatch = {{Phase::Gmain, 1}, {Phase::Greg, 0.25}, {Phase::Dmain, 1}, {Phase::Dreg, 1.0 / 16}};
  double iteration_us = 0;
  for (size_t i = 0; i < phases.size(); ++i) {
    Phase phase = phases[i];
    double us = time_us([&] {
      G.zero_grad();
      D.zero_grad();
      loss.accumulate_gradients(phase, real, c, randn({batch, 512}, rng, DType::Float32, Device::CUDA), c, 1);
    }, 1, 5);
    std::cout << std::left << std::setw(58) << names[i] << std::right << std::fixed << std::setprecision(0)
              << std::setw(12) << us << "   " << std::setprecision(2) << us * 1e-6 * 1000.0 / double(batch)
              << " s/kimg if run every minibatch" << std::endl;
    iteration_us += us * per_minibatch[phase];
  }
  std::cout << std::left << std::setw(58) << "paper256 training, batch 32, lazy regularisation" << std::right << std::fixed
            << std::setprecision(0) << std::setw(12) << iteration_us << "   " << std::setprecision(2)
            << iteration_us * 1e-6 * 1000.0 / double(batch) << " s/kimg (no augmentation, no metrics)" << std::endl;
}

// The ADA pipe (bgc at p 0.6, as a run settles) on a paper256 batch, alone and with the GGDR
// feature map that moves along with the images ([32, 512, 64, 64]), fused and op by op.
// The augment pipe's color step on a paper256 batch: the fused op against the composition it
// replaced (a batched matmul with an inner size of 3, then a broadcast add of the offsets).
void color_transform_ops(const DeviceProperties& dev) {
  Table t("color", hbm_title("augment color transform", dev));
  for (DType dtype : kDTypes) {
    std::string name = str_cat("color_transform ", dtype_name(dtype), " [32,3,256,256]");
    if (!t.wanted(name)) continue;
    Tensor x = randn({32, 3, 256, 256}, dtype, Device::CUDA);
    Tensor matrix = randn({32, 3, 3}, dtype, Device::CUDA), offset = randn({32, 3}, dtype, Device::CUDA);
    double us_composed = time_us([&] {
      matmul(matrix, reshape(x, {32, 3, -1})) + reshape(offset, {32, 3, 1});
    });
    t.run(name, [&] { color_transform(x, matrix, offset); }, 2 * bytes_of(x), Measure::Bytes, dev.memory_bandwidth_gbs,
          str_cat("matmul + add: ", int(us_composed), " us"));
  }
}

void augment_pipe() {
  const std::vector<std::string> names = {"bgc p 0.6 forward, images [32,3,256,256]",
                                          "same, images through the op-by-op warp (pad, upsample, grid_sample)",
                                          "bgc p 0.6 forward+backward, images",
                                          "bgc p 0.6 forward, images + GGDR features [32,512,64,64]",
                                          "same, features through the op-by-op warp (pad, upsample, grid_sample)"};
  Table t("augment", "");
  if (!t.any_wanted(names)) return;
  std::cout << "\n## ADA augmentation pipe (paper256 batch; time per call)\n";
  RandomGenerator rng(1);
  AugmentPipe pipe(AugmentConfig::preset("bgc"), rng);
  pipe.p = 0.6;
  Tensor images = randn({32, 3, 256, 256}, DType::Float32, Device::CUDA);
  Tensor features = randn({32, 512, 64, 64}, DType::Float32, Device::CUDA);
  auto row = [&](size_t i, const std::function<void()>& fn) {
    if (!t.wanted(names[i])) return;
    double us = time_us(fn, 2, 10);
    std::cout << std::left << std::setw(72) << names[i] << std::right << std::fixed << std::setprecision(0) << std::setw(10)
              << us << " us" << std::endl;
  };
  row(0, [&] {
    NoGradGuard no_grad;
    pipe.forward(images);
  });
  // Images that need a gradient take the differentiable composition: the unfused cost (plus a
  // 25 MB copy and the recorded graph).
  row(1, [&] { pipe.forward(set_requires_grad(raw::clone(images))); });
  row(2, [&] {
    Tensor x = set_requires_grad(raw::clone(images));
    backward(sum(pipe.forward(x)));
  });
  row(3, [&] {
    NoGradGuard no_grad;
    std::map<int, Tensor> maps = {{64, features}};
    pipe.forward(images, &maps);
  });
  // A feature map that needs a gradient takes the differentiable composition: the unfused cost.
  Tensor tracked = set_requires_grad(raw::clone(features));
  row(4, [&] {
    std::map<int, Tensor> maps = {{64, tracked}};
    pipe.forward(images, &maps);
  });
}

// Metric cost: Inception-v3 feature extraction (weights do not change the speed: ones and zeros)
// and the paper256 generator, giving fid50k_full's GPU time for a 70k-image 256x256 dataset
// (FFHQ's size) plus 50k generated images; PNG decoding of the reals is not included.
void evaluation() {
  const std::vector<std::string> names = {"inception features, batch 64, 256x256 input",
                                          "paper256 G_ema images, batch 64"};
  Table t("eval", "");
  if (!t.any_wanted(names)) return;
  std::cout << "\n## evaluation (fid50k_full parts)\n";
  NoGradGuard no_grad;
  std::map<std::string, Tensor> state;
  for (const auto& [name, shape] : eval::InceptionV3::state_shapes()) {
    bool ones = name.find("running_var") != std::string::npos || name.find("bn.weight") != std::string::npos;
    state[name] = ones ? Tensor::ones(shape) : Tensor::zeros(shape);
  }
  eval::InceptionV3 inception(state, Device::CUDA);
  Tensor images = rand({64, 3, 256, 256}, DType::Float32, Device::CUDA);
  double inception_us = t.wanted(names[0]) ? time_us([&] { inception.forward(images); }, 2, 10) : 0;
  TrainingSpec spec = make_training_spec("paper256", 256, 3);
  Generator G(spec.G);
  G.to(Device::CUDA);
  G.eval();
  Tensor z = randn({64, spec.G.z_dim}, DType::Float32, Device::CUDA), c = Tensor::zeros({64, 0}, DType::Float32, Device::CUDA);
  double g_us = t.wanted(names[1]) ? time_us([&] { G.forward(z, c); }, 2, 10) : 0;
  for (size_t i = 0; i < names.size(); ++i) {
    double us = i == 0 ? inception_us : g_us;
    if (us > 0)
      std::cout << std::left << std::setw(50) << names[i] << std::right << std::fixed << std::setprecision(0) << std::setw(10)
                << us << " us  " << std::setw(8) << 64 / (us * 1e-6) << " images/s" << std::endl;
  }
  if (inception_us > 0 && g_us > 0)
    std::cout << std::fixed << std::setprecision(0) << "fid50k_full on a 70k-image 256x256 dataset: ~"
              << (120000 * inception_us + 50000 * g_us) / 64 * 1e-6 << " s of GPU time (first run; the real statistics "
              << "are cached afterwards: ~" << 50000 * (inception_us + g_us) / 64 * 1e-6 << " s)" << std::endl;
}

// Whole training iterations through the Trainer (phases, Adam, EMA, augmentation) on random
// "real" images: the cost of ADA and of GGDR's decoder and loss on the same config, beside the
// parameter counts. The paper reports +3.7% parameters and +8% time for GGDR.
void training_iterations() {
  struct Variant {
    std::string name, aug;
    double p;
    int ggdr_res;
  };
  const std::vector<Variant> variants = {{"iteration noaug", "noaug", 0, 0},
                                         {"iteration ada (bgc, p 0.6)", "fixed", 0.6, 0},
                                         {"iteration ada (bgc, p 0.6) + GGDR 64", "fixed", 0.6, 64},
                                         {"iteration noaug + GGDR 64", "noaug", 0, 64}};
  std::vector<std::string> names;
  for (const Variant& v : variants) names.push_back(v.name);
  Table t("train", "");
  if (!t.any_wanted(names)) return;
  std::cout << "\n## whole training iterations of paper256 at batch 32 (16 iterations: one full lazy-regularisation cycle)\n";
  const int64_t batch = 32, res = 256;
  Tensor real = randn({batch, 3, res, res}, DType::Float32, Device::CUDA);
  RealDataSource data;
  data.resolution = int(res);
  data.channels = 3;
  data.name = "random";
  data.next = [&](int64_t, Device) { return std::make_pair(real, Tensor::zeros({batch, 0}, DType::Float32, Device::CUDA)); };
  data.random_labels = [](int64_t n, Device device) { return Tensor::zeros({n, 0}, DType::Float32, device); };
  std::vector<double> sec_per_kimg(variants.size(), 0), params(variants.size(), 0);
  for (size_t i = 0; i < variants.size(); ++i) {
    if (!t.wanted(names[i])) continue;
    TrainingOptions o;
    o.cfg = "paper256";
    o.batch = int(batch);
    o.aug = variants[i].aug;
    o.p = variants[i].p;
    o.reg_type = variants[i].ggdr_res > 0 ? "ggdr" : "none";
    o.ggdr_res = variants[i].ggdr_res;
    o.device = Device::CUDA;
    o.grid_w = o.grid_h = 1;
    Trainer trainer(o, data);
    trainer.train_iterations(16);  // warm-up: allocator, cuDNN algorithm choice
    synchronize();
    auto start = std::chrono::steady_clock::now();
    trainer.train_iterations(16);
    synchronize();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 16;
    sec_per_kimg[i] = seconds * 1000.0 / double(batch);
    params[i] = double(trainer.G().num_parameters() + trainer.D().num_parameters());
    std::cout << std::left << std::setw(40) << names[i] << std::right << std::fixed << std::setprecision(2) << std::setw(8)
              << sec_per_kimg[i] << " s/kimg" << std::setw(14) << std::setprecision(0) << params[i] << " params (G+D)"
              << std::endl;
  }
  if (sec_per_kimg[1] > 0 && sec_per_kimg[2] > 0)
    std::cout << std::fixed << std::setprecision(1) << "GGDR overhead over the same ADA run: "
              << 100.0 * (sec_per_kimg[2] / sec_per_kimg[1] - 1) << "% time, " << 100.0 * (params[2] / params[1] - 1)
              << "% parameters (paper: +8% time, +3.7% parameters)" << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
      name_filter() = argv[++i];
    } else if (std::strncmp(argv[i], "--filter=", 9) == 0) {
      name_filter() = argv[i] + 9;
    } else {
      std::cerr << "usage: sg_bench [--filter SUBSTRING]\n";
      return 2;
    }
  }
  if (!cuda_available()) {
    std::cout << "sg_bench: " << cuda_unavailable_reason() << "; the benchmarks need a GPU, nothing to measure.\n";
    return 0;
  }
  try {
    DeviceProperties dev = device_properties();
    std::cout << "# sg_bench on " << dev.name << ": " << dev.sm_count << " SMs, HBM " << int(dev.memory_bandwidth_gbs)
              << " GB/s, FP32 FMA peak " << std::setprecision(1) << std::fixed << dev.peak_fp32_tflops
              << " TFLOP/s (from the device's clocks); times are medians of CUDA-event timings after warm-up\n";
    if (!name_filter().empty()) std::cout << "# filter: " << name_filter() << "\n";
    elementwise_ops(dev);
    reductions(dev);
    copies(dev);
    matmuls(dev);
    upfirdn2d_ops(dev);
    bias_act_ops(dev);
    modconv_ops(dev);
    training_step();
    color_transform_ops(dev);
    augment_pipe();
    evaluation();
    training_iterations();
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
