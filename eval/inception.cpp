#include "eval/inception.h"

#include <cmath>
#include <filesystem>
#include <set>

#include "autograd/autograd.h"
#include "engine/safetensors.h"
#include "ops/bias_act/bias_act.h"
#include "ops/conv2d/conv2d.h"
#include "ops/elementwise/elementwise.h"
#include "ops/matmul/matmul.h"
#include "ops/pool2d/pool2d.h"
#include "ops/reduce/reduce.h"
#include "ops/resize_bilinear/resize_bilinear.h"
#include "ops/shape/shape.h"

namespace sg::eval {

namespace {

struct ConvSpec {
  std::string name;
  int in, out, kh, kw, stride, pad_h, pad_w;
};

// Every BasicConv2d (convolution without bias + batch norm + ReLU) of the network, in order.
const std::vector<ConvSpec>& conv_specs() {
  static const std::vector<ConvSpec> specs = [] {
    std::vector<ConvSpec> s;
    auto add = [&](const std::string& name, int in, int out, int kh, int kw, int stride = 1, int ph = 0, int pw = 0) {
      s.push_back({name, in, out, kh, kw, stride, ph, pw});
    };
    add("Conv2d_1a_3x3", 3, 32, 3, 3, 2);
    add("Conv2d_2a_3x3", 32, 32, 3, 3);
    add("Conv2d_2b_3x3", 32, 64, 3, 3, 1, 1, 1);
    add("Conv2d_3b_1x1", 64, 80, 1, 1);
    add("Conv2d_4a_3x3", 80, 192, 3, 3);
    auto a = [&](const std::string& n, int in, int pool) {
      add(n + ".branch1x1", in, 64, 1, 1);
      add(n + ".branch5x5_1", in, 48, 1, 1);
      add(n + ".branch5x5_2", 48, 64, 5, 5, 1, 2, 2);
      add(n + ".branch3x3dbl_1", in, 64, 1, 1);
      add(n + ".branch3x3dbl_2", 64, 96, 3, 3, 1, 1, 1);
      add(n + ".branch3x3dbl_3", 96, 96, 3, 3, 1, 1, 1);
      add(n + ".branch_pool", in, pool, 1, 1);
    };
    a("Mixed_5b", 192, 32);
    a("Mixed_5c", 256, 64);
    a("Mixed_5d", 288, 64);
    add("Mixed_6a.branch3x3", 288, 384, 3, 3, 2);
    add("Mixed_6a.branch3x3dbl_1", 288, 64, 1, 1);
    add("Mixed_6a.branch3x3dbl_2", 64, 96, 3, 3, 1, 1, 1);
    add("Mixed_6a.branch3x3dbl_3", 96, 96, 3, 3, 2);
    auto c = [&](const std::string& n, int c7) {
      add(n + ".branch1x1", 768, 192, 1, 1);
      add(n + ".branch7x7_1", 768, c7, 1, 1);
      add(n + ".branch7x7_2", c7, c7, 1, 7, 1, 0, 3);
      add(n + ".branch7x7_3", c7, 192, 7, 1, 1, 3, 0);
      add(n + ".branch7x7dbl_1", 768, c7, 1, 1);
      add(n + ".branch7x7dbl_2", c7, c7, 7, 1, 1, 3, 0);
      add(n + ".branch7x7dbl_3", c7, c7, 1, 7, 1, 0, 3);
      add(n + ".branch7x7dbl_4", c7, c7, 7, 1, 1, 3, 0);
      add(n + ".branch7x7dbl_5", c7, 192, 1, 7, 1, 0, 3);
      add(n + ".branch_pool", 768, 192, 1, 1);
    };
    c("Mixed_6b", 128);
    c("Mixed_6c", 160);
    c("Mixed_6d", 160);
    c("Mixed_6e", 192);
    add("Mixed_7a.branch3x3_1", 768, 192, 1, 1);
    add("Mixed_7a.branch3x3_2", 192, 320, 3, 3, 2);
    add("Mixed_7a.branch7x7x3_1", 768, 192, 1, 1);
    add("Mixed_7a.branch7x7x3_2", 192, 192, 1, 7, 1, 0, 3);
    add("Mixed_7a.branch7x7x3_3", 192, 192, 7, 1, 1, 3, 0);
    add("Mixed_7a.branch7x7x3_4", 192, 192, 3, 3, 2);
    auto e = [&](const std::string& n, int in) {
      add(n + ".branch1x1", in, 320, 1, 1);
      add(n + ".branch3x3_1", in, 384, 1, 1);
      add(n + ".branch3x3_2a", 384, 384, 1, 3, 1, 0, 1);
      add(n + ".branch3x3_2b", 384, 384, 3, 1, 1, 1, 0);
      add(n + ".branch3x3dbl_1", in, 448, 1, 1);
      add(n + ".branch3x3dbl_2", 448, 384, 3, 3, 1, 1, 1);
      add(n + ".branch3x3dbl_3a", 384, 384, 1, 3, 1, 0, 1);
      add(n + ".branch3x3dbl_3b", 384, 384, 3, 1, 1, 1, 0);
      add(n + ".branch_pool", in, 192, 1, 1);
    };
    e("Mixed_7b", 1280);
    e("Mixed_7c", 2048);
    return s;
  }();
  return specs;
}

constexpr double kBatchNormEps = 0.001;

}  // namespace

std::vector<std::pair<std::string, Shape>> InceptionV3::state_shapes() {
  std::vector<std::pair<std::string, Shape>> shapes;
  for (const ConvSpec& c : conv_specs()) {
    shapes.push_back({c.name + ".conv.weight", {c.out, c.in, c.kh, c.kw}});
    for (const char* what : {".bn.weight", ".bn.bias", ".bn.running_mean", ".bn.running_var"})
      shapes.push_back({c.name + what, {c.out}});
  }
  shapes.push_back({"fc.weight", {1008, 2048}});
  shapes.push_back({"fc.bias", {1008}});
  return shapes;
}

InceptionV3::InceptionV3(const std::map<std::string, Tensor>& state, Device device) : device_(device) {
  std::set<std::string> expected;
  for (const auto& [name, shape] : state_shapes()) {
    auto it = state.find(name);
    SG_CHECK(it != state.end(), "inception: weights lack '", name, "'");
    SG_CHECK(it->second.shape() == shape, "inception: '", name, "' has shape ", shape_str(it->second.shape()), ", expected ",
             shape_str(shape));
    expected.insert(name);
  }
  for (const auto& [name, t] : state) {
    bool counter = name.size() > 20 && name.compare(name.size() - 20, 20, ".num_batches_tracked") == 0;
    SG_CHECK(expected.count(name) || counter, "inception: unexpected key '", name, "' in the weights");
  }
  auto f32 = [&](const std::string& name) { return raw::to(state.at(name), DType::Float32, Device::CPU).to_vector(); };
  for (const ConvSpec& c : conv_specs()) {
    std::vector<double> w = f32(c.name + ".conv.weight"), gamma = f32(c.name + ".bn.weight"),
                        beta = f32(c.name + ".bn.bias"), mean_ = f32(c.name + ".bn.running_mean"),
                        var = f32(c.name + ".bn.running_var"), bias(size_t(c.out));
    const size_t per_out = w.size() / size_t(c.out);
    for (size_t o = 0; o < size_t(c.out); ++o) {
      double scale = gamma[o] / std::sqrt(var[o] + kBatchNormEps);
      for (size_t k = 0; k < per_out; ++k) w[o * per_out + k] *= scale;
      bias[o] = beta[o] - mean_[o] * scale;
    }
    convs_[c.name] = {Tensor::from_vector(w, {c.out, c.in, c.kh, c.kw}, DType::Float32, device),
                      Tensor::from_vector(bias, {c.out}, DType::Float32, device), c.stride, c.pad_h, c.pad_w};
  }
  fc_weight_t_ = raw::contiguous(raw::transpose(raw::to(state.at("fc.weight"), DType::Float32, device), 0, 1));
  fc_bias_ = raw::to(state.at("fc.bias"), DType::Float32, device);
}

Tensor InceptionV3::conv(const std::string& name, const Tensor& x) const {
  const Conv& c = convs_.at(name);
  Tensor y = conv2d(x, c.weight, Tensor(), c.stride, Int2(c.pad_w, c.pad_h));
  return bias_act(y, c.bias, 1, Activation::Relu, std::nullopt, 1.0);
}

// 1x1, 5x5, double 3x3 and pooled branches; the FID variant's pool does not count padding.
Tensor InceptionV3::block_a(const std::string& n, const Tensor& x) const {
  Tensor b5 = conv(n + ".branch5x5_2", conv(n + ".branch5x5_1", x));
  Tensor b3 = conv(n + ".branch3x3dbl_3", conv(n + ".branch3x3dbl_2", conv(n + ".branch3x3dbl_1", x)));
  Tensor pool = conv(n + ".branch_pool", avg_pool2d(x, 3, 1, 1, false));
  return cat({conv(n + ".branch1x1", x), b5, b3, pool}, 1);
}

// Grid reduction: strided 3x3, strided double 3x3, max pool.
Tensor InceptionV3::block_b(const std::string& n, const Tensor& x) const {
  Tensor b3 = conv(n + ".branch3x3dbl_3", conv(n + ".branch3x3dbl_2", conv(n + ".branch3x3dbl_1", x)));
  return cat({conv(n + ".branch3x3", x), b3, max_pool2d(x, 3, 2)}, 1);
}

// Factorised 7x7 branches.
Tensor InceptionV3::block_c(const std::string& n, const Tensor& x) const {
  Tensor b7 = conv(n + ".branch7x7_3", conv(n + ".branch7x7_2", conv(n + ".branch7x7_1", x)));
  Tensor d = x;
  for (int i = 1; i <= 5; ++i) d = conv(n + ".branch7x7dbl_" + std::to_string(i), d);
  Tensor pool = conv(n + ".branch_pool", avg_pool2d(x, 3, 1, 1, false));
  return cat({conv(n + ".branch1x1", x), b7, d, pool}, 1);
}

// Grid reduction with a factorised 7x7 branch.
Tensor InceptionV3::block_d(const std::string& n, const Tensor& x) const {
  Tensor b3 = conv(n + ".branch3x3_2", conv(n + ".branch3x3_1", x));
  Tensor b7 = x;
  for (int i = 1; i <= 4; ++i) b7 = conv(n + ".branch7x7x3_" + std::to_string(i), b7);
  return cat({b3, b7, max_pool2d(x, 3, 2)}, 1);
}

// Expanded filter bank; Mixed_7c (FID) pools with a max instead of an average.
Tensor InceptionV3::block_e(const std::string& n, const Tensor& x, bool max_pool) const {
  Tensor b3 = conv(n + ".branch3x3_1", x);
  b3 = cat({conv(n + ".branch3x3_2a", b3), conv(n + ".branch3x3_2b", b3)}, 1);
  Tensor d = conv(n + ".branch3x3dbl_2", conv(n + ".branch3x3dbl_1", x));
  d = cat({conv(n + ".branch3x3dbl_3a", d), conv(n + ".branch3x3dbl_3b", d)}, 1);
  Tensor pooled = max_pool ? max_pool2d(x, 3, 1, 1) : avg_pool2d(x, 3, 1, 1, false);
  return cat({conv(n + ".branch1x1", x), b3, d, conv(n + ".branch_pool", pooled)}, 1);
}

FeatureOutput InceptionV3::forward(const Tensor& images) {
  SG_CHECK(images.dim() == 4 && (images.size(1) == 1 || images.size(1) == 3),
           "inception: expected images [N, 1 or 3, H, W], got ", shape_str(images.shape()));
  NoGradGuard no_grad;
  Tensor x = raw::to(images, DType::Float32, device_);
  if (x.size(1) == 1) x = repeat(x, {1, 3, 1, 1});
  x = add(mul(resize_bilinear(x, 299, 299), 2.0), -1.0);
  for (const char* name : {"Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"}) x = conv(name, x);
  x = max_pool2d(x, 3, 2);
  x = conv("Conv2d_4a_3x3", conv("Conv2d_3b_1x1", x));
  x = max_pool2d(x, 3, 2);
  for (const char* name : {"Mixed_5b", "Mixed_5c", "Mixed_5d"}) x = block_a(name, x);
  x = block_b("Mixed_6a", x);
  for (const char* name : {"Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"}) x = block_c(name, x);
  x = block_d("Mixed_7a", x);
  x = block_e("Mixed_7b", x, false);
  x = block_e("Mixed_7c", x, true);
  FeatureOutput out;
  out.features = mean(x, {2, 3});
  out.logits = add(matmul(out.features, fc_weight_t_), fc_bias_);
  return out;
}

std::unique_ptr<FeatureNet> load_inception(const std::string& path, Device device) {
  SG_CHECK(std::filesystem::exists(path), "inception: weights file ", path, " does not exist. Convert the pytorch-fid "
           "weights pt_inception-2015-12-05-6726825d.pth with tools/inception_to_safetensors.py (see README, Evaluation)");
  SafetensorsFile file = load_safetensors(path);
  return std::make_unique<InceptionV3>(file.tensors, device);
}

}  // namespace sg::eval
