// `make bench`: throughput of the engine's kernels on the shapes of a 256x256 StyleGAN2
// (paper256 channel counts, batch 32), each next to the device limit, and beside the simplest
// alternative where one exists. --filter SUBSTRING runs only matching benchmarks.
#include <cmath>
#include <cstring>
#include <map>

#include "autograd/autograd.h"
#include "bench/bench_util.h"
#include "engine/rng.h"
#include "models/configs.h"
#include "models/loss.h"
#include "models/networks.h"
#include "ops/bias_act/bias_act.h"
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

std::string filter_text;
bool wanted(const std::string& name) { return filter_text.empty() || name.find(filter_text) != std::string::npos; }

double bytes_of(const Tensor& t) { return double(t.numel()) * dtype_size(t.dtype()); }

void core_ops(const DeviceProperties& dev) {
  print_header("core ops (memory-bound: % of HBM bandwidth " + std::to_string(int(dev.memory_bandwidth_gbs)) + " GB/s)");
  for (DType dtype : {DType::Float32, DType::Float16}) {
    Tensor a = randn({32, 512, 64, 64}, dtype, Device::CUDA), b = randn({32, 512, 64, 64}, dtype, Device::CUDA);
    Tensor bias = randn({1, 512, 1, 1}, dtype, Device::CUDA);
    std::string t = dtype_name(dtype);
    if (wanted("add")) {
      double us = time_us([&] { add(a, b); });
      print_row({"add " + t + " [32,512,64,64]", us, 3 * bytes_of(a), false, dev.memory_bandwidth_gbs, ""});
      us = time_us([&] { mul(a, bias); });
      print_row({"mul broadcast [N,C,1,1] " + t, us, 2 * bytes_of(a), false, dev.memory_bandwidth_gbs, ""});
    }
    if (wanted("sum")) {
      double us = time_us([&] { sum(a); });
      print_row({"sum all " + t + " [32,512,64,64]", us, bytes_of(a), false, dev.memory_bandwidth_gbs, ""});
      us = time_us([&] { sum(a, {0, 2, 3}); });
      print_row({"sum over N,H,W " + t + " (bias gradient)", us, 2 * bytes_of(a), false, dev.memory_bandwidth_gbs,
                 "includes the permute copy"});
    }
    if (wanted("copy")) {
      double us = time_us([&] { raw::clone(a); });
      print_row({"copy contiguous " + t, us, 2 * bytes_of(a), false, dev.memory_bandwidth_gbs, ""});
      Tensor p = raw::permute(a, {0, 2, 3, 1});
      us = time_us([&] { raw::clone(p); });
      print_row({"copy permuted NCHW->NHWC " + t, us, 2 * bytes_of(a), false, dev.memory_bandwidth_gbs, ""});
    }
  }
  if (wanted("matmul")) {
    print_header("matmul (cuBLAS; float32 without TF32)");
    for (auto [m, n, k] : {std::tuple<int, int, int>{4096, 4096, 4096}, {32, 512, 512}, {8192, 512, 512}}) {
      for (DType dtype : {DType::Float32, DType::Float16}) {
        Tensor a = randn({m, k}, dtype, Device::CUDA), b = randn({k, n}, dtype, Device::CUDA);
        double us = time_us([&] { matmul(a, b); });
        double peak = dtype == DType::Float16 ? kH100Fp16TensorTflops : dev.peak_fp32_tflops;
        print_row({str_cat("matmul ", dtype_name(dtype), " ", m, "x", k, " @ ", k, "x", n), us, 2.0 * m * n * k, true,
                   peak, dtype == DType::Float16 ? "vs fp16 tensor peak" : "vs fp32 FMA peak"});
      }
    }
  }
}

void stylegan_ops(const DeviceProperties& dev) {
  Tensor f = setup_filter(std::vector<double>{1, 3, 3, 1});
  if (wanted("upfirdn2d")) {
    print_header("upfirdn2d (paper256 shapes, batch 32)");
    for (auto [c, res] : {std::pair<int, int>{128, 128}, {256, 64}, {64, 256}}) {
      for (DType dtype : {DType::Float32, DType::Float16}) {
        Tensor x = randn({32, c, res, res}, dtype, Device::CUDA);
        Tensor up = upsample2d(x, f);
        double us = time_us([&] { upsample2d(x, f); });
        print_row({str_cat("upsample2d x2 4x4 ", dtype_name(dtype), " [32,", c, ",", res, ",", res, "]"), us,
                   bytes_of(x) + bytes_of(up), false, dev.memory_bandwidth_gbs, ""});
        us = time_us([&] { downsample2d(x, f); });
        print_row({str_cat("downsample2d x2 4x4 ", dtype_name(dtype), " [32,", c, ",", res, ",", res, "]"), us,
                   bytes_of(x) * 1.25, false, dev.memory_bandwidth_gbs, ""});
        // The simplest alternative: the same FIR as a depthwise cuDNN convolution (blur only).
        Tensor w = raw::contiguous(raw::expand(raw::reshape(raw::to(f, dtype, Device::CUDA), {1, 1, 4, 4}), {c, 1, 4, 4}));
        Tensor padded = pad(x, {2, 1, 2, 1});
        us = time_us([&] { conv2d(padded, w, Tensor(), 1, 0, c); });
        double us_fir = time_us([&] { filter2d(x, f); });
        print_row({str_cat("filter2d 4x4 ", dtype_name(dtype), " [32,", c, ",", res, ",", res, "]"), us_fir,
                   2 * bytes_of(x), false, dev.memory_bandwidth_gbs,
                   str_cat("cuDNN depthwise conv: ", int(us), " us")});
      }
    }
  }
  if (wanted("bias_act")) {
    print_header("bias_act (fused lrelu + gain + clamp vs separate elementwise ops)");
    for (DType dtype : {DType::Float32, DType::Float16}) {
      Tensor x = randn({32, 512, 64, 64}, dtype, Device::CUDA), b = randn({512}, dtype, Device::CUDA);
      double us = time_us([&] { bias_act(x, b, 1, Activation::Lrelu, std::nullopt, std::nullopt, 256.0); });
      Tensor bb = reshape(b, {1, -1, 1, 1});
      double us_sep = time_us([&] { clamp(mul(leaky_relu(add(x, bb), 0.2), std::sqrt(2.0)), -256, 256); });
      print_row({str_cat("bias_act lrelu clamp ", dtype_name(dtype), " [32,512,64,64]"), us, 2 * bytes_of(x), false,
                 dev.memory_bandwidth_gbs, str_cat("separate ops: ", int(us_sep), " us")});
      Tensor dy = randn(x.shape(), dtype, Device::CUDA);
      Tensor xr = set_requires_grad(raw::clone(x));
      Tensor y = bias_act(xr, b, 1, Activation::Lrelu, std::nullopt, std::nullopt, 256.0);
      us = time_us([&] { grad({y}, {xr}, {dy}, GradOptions{false, 1, false}); });
      print_row({str_cat("bias_act lrelu backward ", dtype_name(dtype)), us, 3 * bytes_of(x), false,
                 dev.memory_bandwidth_gbs, ""});
    }
  }
  if (wanted("modconv")) {
    print_header("modulated conv 3x3, 512 ch, 32x32, batch 32 (forward + backward)");
    for (bool fused : {false, true}) {
      Tensor x = set_requires_grad(randn({32, 512, 32, 32}, DType::Float32, Device::CUDA));
      Tensor w = set_requires_grad(randn({512, 512, 3, 3}, DType::Float32, Device::CUDA));
      Tensor s = set_requires_grad(randn({32, 512}, DType::Float32, Device::CUDA));
      ModulatedConvOptions o;
      o.padding = 1;
      o.fused_modconv = fused;
      double flops = 2.0 * 32 * 512 * 512 * 9 * 32 * 32;
      double us = time_us([&] { modulated_conv2d(x, w, s, Tensor(), Tensor(), o); }, 2, 10);
      print_row({str_cat("modconv forward ", fused ? "fused (grouped conv)" : "unfused (shared weight)"), us, flops, true,
                 dev.peak_fp32_tflops, "float32, no TF32"});
      us = time_us([&] {
        Tensor y = modulated_conv2d(x, w, s, Tensor(), Tensor(), o);
        grad({sum(y)}, {x, w, s});
      }, 2, 10);
      print_row({str_cat("modconv forward+backward ", fused ? "fused" : "unfused"), us, 3 * flops, true,
                 dev.peak_fp32_tflops, ""});
    }
  }
}

void training_step(const DeviceProperties&) {
  if (!wanted("train")) return;
  print_header("one training iteration of paper256 G and D (batch 32 per round, no augmentation)");
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
  for (Phase phase : {Phase::Gmain, Phase::Greg, Phase::Dmain, Phase::Dreg}) {
    double us = time_us([&] {
      G.zero_grad();
      D.zero_grad();
      loss.accumulate_gradients(phase, real, c, randn({batch, 512}, rng, DType::Float32, Device::CUDA), c, 1);
    }, 1, 5);
    double sec_per_kimg = us * 1e-6 * 1000.0 / double(batch);
    std::cout << std::left << std::setw(58) << str_cat("phase ", phase_name(phase)) << std::right << std::fixed
              << std::setprecision(0) << std::setw(12) << us << "   " << std::setprecision(2) << sec_per_kimg
              << " s/kimg if run every minibatch\n";
    iteration_us += us * per_minibatch[phase];
  }
  std::cout << std::left << std::setw(58) << "paper256 training, batch 32, lazy regularisation" << std::right << std::fixed
            << std::setprecision(0) << std::setw(12) << iteration_us << "   " << std::setprecision(2)
            << iteration_us * 1e-6 * 1000.0 / double(batch) << " s/kimg (no augmentation, no metrics)\n";
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--filter") == 0 && i + 1 < argc) filter_text = argv[++i];
    else if (std::strncmp(argv[i], "--filter=", 9) == 0) filter_text = argv[i] + 9;
  }
  if (!cuda_available()) {
    std::cout << "sg_bench: " << cuda_unavailable_reason() << "; the benchmarks need a GPU, nothing to measure.\n";
    return 0;
  }
  try {
    DeviceProperties dev = device_properties();
    std::cout << "# sg_bench on " << dev.name << ": " << dev.sm_count << " SMs, HBM " << int(dev.memory_bandwidth_gbs)
              << " GB/s, FP32 FMA peak " << std::setprecision(1) << std::fixed << dev.peak_fp32_tflops << " TFLOP/s\n";
    core_ops(dev);
    stylegan_ops(dev);
    training_step(dev);
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
