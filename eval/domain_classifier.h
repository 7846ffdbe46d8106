// A domain feature network for datasets where Inception-v3 does not fit (small grayscale images
// such as Fashion-MNIST) or whose weights are absent: a small convolutional classifier trained
// with this engine on the dataset's own labels. Its penultimate activations are the features of
// the metrics, which then carry its name (fid50k_full_<name>), never Inception's.
//   conv 3x3 (32) -> [conv 3x3 stride 2, doubling channels up to 128] down to 4x4 -> mean over
//   pixels (the 128-d features) -> linear (the class logits); leaky ReLU 0.2 between convs.
#pragma once
#include <memory>
#include <string>

#include "eval/feature_net.h"
#include "models/module.h"

namespace sg::eval {

struct DomainClassifierConfig {
  std::string name;  // short identifier used in metric names, e.g. "fmnist"
  int resolution = 32, channels = 1, num_classes = 10;
};

class DomainClassifier : public FeatureNet, public Module {
 public:
  explicit DomainClassifier(const DomainClassifierConfig& config);
  std::string name() const override { return config_.name; }
  int64_t feature_dim() const override { return kFeatures; }
  int64_t num_classes() const override { return config_.num_classes; }
  Device device() const override { return device_; }
  FeatureOutput forward(const Tensor& images) override;  // records gradients unless disabled
  void move_to(Device device);
  const DomainClassifierConfig& config() const { return config_; }

  void save(const std::string& path);
  static std::unique_ptr<DomainClassifier> load(const std::string& path, Device device);

  static constexpr int64_t kFeatures = 128;

 private:
  DomainClassifierConfig config_;
  Device device_ = Device::CPU;
  std::vector<Tensor*> conv_weights_, conv_biases_;
  Tensor *fc_weight_ = nullptr, *fc_bias_ = nullptr;
};

struct ClassifierTraining {
  int64_t steps = 3000, batch = 64;
  double lr = 1e-3;
  double holdout = 0.1;  // the last fraction of the dataset, kept out of training for accuracy
  uint64_t seed = 0;
  Device device = Device::CPU;
};

// Trains on the labelled dataset at `dataset_path`; prints the loss as it goes and returns the
// classifier with its held-out accuracy.
std::unique_ptr<DomainClassifier> train_domain_classifier(const std::string& dataset_path, const std::string& name,
                                                          const ClassifierTraining& options, double* holdout_accuracy);

}  // namespace sg::eval
