#include "eval/domain_classifier.h"

#include <cmath>
#include <iostream>

#include <nlohmann/json.hpp>

#include "autograd/autograd.h"
#include "data/dataset.h"
#include "engine/rng.h"
#include "engine/safetensors.h"
#include "ops/adam/adam.h"
#include "ops/bias_act/bias_act.h"
#include "ops/conv2d/conv2d.h"
#include "ops/elementwise/elementwise.h"
#include "ops/matmul/matmul.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"

namespace sg::eval {

namespace {

constexpr const char* kFormat = "sg-domain-classifier-1";

// Cross-entropy of logits [N, K] against one-hot targets [N, K], averaged over the batch.
Tensor cross_entropy(const Tensor& logits, const Tensor& onehot) {
  Tensor top = amax(logits, {1}, true).detach();
  Tensor log_sum_exp = add(log(sum(exp(sub(logits, top)), {1})), reshape(top, {logits.size(0)}));
  return mean(sub(log_sum_exp, sum(mul(logits, onehot), {1})));
}

}  // namespace

DomainClassifier::DomainClassifier(const DomainClassifierConfig& config) : config_(config) {
  SG_CHECK(config.resolution >= 4 && (config.resolution & (config.resolution - 1)) == 0,
           "DomainClassifier: resolution must be a power of two >= 4, got ", config.resolution);
  SG_CHECK(config.channels == 1 || config.channels == 3, "DomainClassifier: 1 or 3 channels, got ", config.channels);
  SG_CHECK(config.num_classes >= 2, "DomainClassifier: needs at least 2 classes, got ", config.num_classes);
  SG_CHECK(!config.name.empty() && config.name != "inception", "DomainClassifier: needs a name other than 'inception'");
  // He initialisation for the leaky-ReLU convolutions.
  auto add_conv = [&](int in, int out) {
    std::string prefix = "conv" + std::to_string(conv_weights_.size());
    conv_weights_.push_back(&register_parameter(prefix + ".weight", mul(randn({out, in, 3, 3}), std::sqrt(2.0 / (in * 9)))));
    conv_biases_.push_back(&register_parameter(prefix + ".bias", Tensor::zeros({out})));
    return out;
  };
  int channels = add_conv(config.channels, config.resolution > 4 ? 32 : int(kFeatures));
  for (int res = config.resolution; res > 4; res /= 2)
    channels = add_conv(channels, res / 2 == 4 ? int(kFeatures) : std::min(channels * 2, int(kFeatures)));
  fc_weight_ = &register_parameter("fc.weight", mul(randn({kFeatures, config.num_classes}), std::sqrt(1.0 / kFeatures)));
  fc_bias_ = &register_parameter("fc.bias", Tensor::zeros({config.num_classes}));
}

FeatureOutput DomainClassifier::forward(const Tensor& images) {
  SG_CHECK(images.dim() == 4 && images.size(2) == config_.resolution && images.size(3) == config_.resolution &&
               (images.size(1) == config_.channels || (images.size(1) == 3 && config_.channels == 1)),
           "DomainClassifier '", config_.name, "': expected images [N, ", config_.channels, ", ", config_.resolution, ", ",
           config_.resolution, "], got ", shape_str(images.shape()));
  // Generated RGB images of a grayscale domain are averaged back to one channel.
  Tensor x = images.size(1) == config_.channels ? images : mean(images, {1}, true);
  x = add(mul(x, 2.0), -1.0);
  for (size_t i = 0; i < conv_weights_.size(); ++i) {
    x = conv2d(x, *conv_weights_[i], Tensor(), i == 0 ? 1 : 2, 1);
    x = bias_act(x, *conv_biases_[i], 1, Activation::Lrelu, 0.2, 1.0);
  }
  FeatureOutput out;
  out.features = mean(x, {2, 3});
  out.logits = add(matmul(out.features, *fc_weight_), *fc_bias_);
  return out;
}

void DomainClassifier::move_to(Device device) {
  to(device);
  device_ = device;
}

void DomainClassifier::save(const std::string& path) {
  nlohmann::json j = {{"name", config_.name}, {"resolution", config_.resolution},
                      {"channels", config_.channels}, {"num_classes", config_.num_classes}};
  save_safetensors(path, state_dict(), {{"format", kFormat}, {"config", j.dump()}});
}

std::unique_ptr<DomainClassifier> DomainClassifier::load(const std::string& path, Device device) {
  SafetensorsFile file = load_safetensors(path);
  SG_CHECK(file.metadata.count("format") && file.metadata.at("format") == kFormat, path,
           " is not a domain classifier of this engine (make one with train_detector)");
  nlohmann::json j = nlohmann::json::parse(file.metadata.at("config"));
  DomainClassifierConfig config{j.at("name"), j.at("resolution"), j.at("channels"), j.at("num_classes")};
  auto net = std::make_unique<DomainClassifier>(config);
  net->load_state_dict(file.tensors);
  net->move_to(device);
  net->eval();
  return net;
}

std::unique_ptr<DomainClassifier> train_domain_classifier(const std::string& dataset_path, const std::string& name,
                                                          const ClassifierTraining& options, double* holdout_accuracy) {
  DatasetOptions data_options;
  data_options.use_labels = true;
  ImageDataset data(dataset_path, data_options);
  SG_CHECK(data.label_dim() >= 2, "train_detector: ", dataset_path, " has no class labels (dataset.json); the domain "
           "classifier learns from them");
  int64_t total = data.size(), holdout = std::max<int64_t>(1, int64_t(double(total) * options.holdout));
  int64_t train_count = total - holdout;
  SG_CHECK(train_count >= options.batch, "train_detector: ", total, " images are too few for batches of ", options.batch);

  // The whole dataset in memory as uint8, with class indices.
  const int64_t image_bytes = data.image_bytes();
  std::vector<uint8_t> pixels(size_t(total * image_bytes));
  std::vector<int64_t> classes(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i) {
    data.read_image(i, pixels.data() + i * image_bytes);
    std::vector<float> label = data.label(i);
    classes[size_t(i)] = std::max_element(label.begin(), label.end()) - label.begin();
  }
  const int R = data.resolution(), C = data.channels(), K = data.label_dim();
  auto batch_of = [&](const std::vector<int64_t>& indices) {
    int64_t n = int64_t(indices.size());
    Tensor images = Tensor::empty({n, C, R, R}, DType::Float32);
    Tensor onehot = Tensor::zeros({n, K}, DType::Float32);
    for (int64_t b = 0; b < n; ++b) {
      const uint8_t* src = pixels.data() + indices[size_t(b)] * image_bytes;
      for (int64_t k = 0; k < image_bytes; ++k) images.data<float>()[b * image_bytes + k] = float(src[k]) / 255.0f;
      onehot.data<float>()[b * K + classes[size_t(indices[size_t(b)])]] = 1;
    }
    return std::make_pair(raw::to(images, DType::Float32, options.device), raw::to(onehot, DType::Float32, options.device));
  };

  manual_seed(options.seed);
  auto net = std::make_unique<DomainClassifier>(DomainClassifierConfig{name, R, C, K});
  net->move_to(options.device);
  std::vector<Tensor> params = net->parameters(), m, v;
  for (const Tensor& p : params) {
    m.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
    v.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
  }
  Tensor nonfinite = Tensor::zeros({1}, DType::Int64, options.device);
  AdamParams adam{options.lr, 0.9, 0.999, 1e-8, 0};
  RandomGenerator rng(options.seed);
  double running = 0;
  for (int64_t step = 1; step <= options.steps; ++step) {
    std::vector<int64_t> indices;
    for (double i : randint({options.batch}, 0, train_count, rng).to_vector()) indices.push_back(int64_t(i));
    auto [images, onehot] = batch_of(indices);
    net->zero_grad();
    Tensor loss = cross_entropy(net->forward(images).logits, onehot);
    backward(loss);
    adam.step = step;
    for (size_t i = 0; i < params.size(); ++i) adam_step(params[i], grad_of(params[i]), m[i], v[i], adam, nonfinite);
    running = step == 1 ? loss.item() : 0.98 * running + 0.02 * loss.item();
    if (step % std::max<int64_t>(options.steps / 10, 1) == 0 || step == options.steps)
      std::cout << "step " << step << " / " << options.steps << "  loss " << running << std::endl;
  }
  SG_CHECK(int64_t(nonfinite.item()) == 0, "train_detector: the classifier's gradients became non-finite");

  net->eval();
  NoGradGuard no_grad;
  int64_t correct = 0;
  for (int64_t start = train_count; start < total; start += options.batch) {
    std::vector<int64_t> indices;
    for (int64_t i = start; i < std::min(total, start + options.batch); ++i) indices.push_back(i);
    auto [images, onehot] = batch_of(indices);
    std::vector<double> logits = net->forward(images).logits.to_vector();
    for (size_t b = 0; b < indices.size(); ++b) {
      auto row = logits.begin() + int64_t(b) * K;
      correct += (std::max_element(row, row + K) - row) == classes[size_t(indices[b])];
    }
  }
  if (holdout_accuracy) *holdout_accuracy = double(correct) / double(holdout);
  return net;
}

}  // namespace sg::eval
