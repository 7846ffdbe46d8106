// Inception-v3 as FID computes it: the pytorch-fid network with use_fid_inception (the patched
// Mixed_5b..7c blocks: average pools that do not count padding, a max pool in the last block,
// 1008 logits). Input [N, C, H, W] in [0, 1] (one channel is repeated), resized bilinearly to
// 299x299 (align_corners false) and mapped to [-1, 1]; outputs the 2048-d pool3 features and the
// logits. Batch-norm layers (eps 0.001, inference) are folded into their convolutions at load.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "eval/feature_net.h"

namespace sg::eval {

class InceptionV3 : public FeatureNet {
 public:
  // Weights with pytorch-fid / torchvision state-dict names (Conv2d_1a_3x3.conv.weight,
  // Mixed_5b.branch1x1.bn.running_mean, fc.weight, ...); every expected key must be present
  // with its shape, num_batches_tracked entries are ignored, anything else is an error.
  InceptionV3(const std::map<std::string, Tensor>& state, Device device);

  // The expected keys and shapes, in network order.
  static std::vector<std::pair<std::string, Shape>> state_shapes();

  std::string name() const override { return "inception"; }
  int64_t feature_dim() const override { return 2048; }
  int64_t num_classes() const override { return 1008; }
  Device device() const override { return device_; }
  FeatureOutput forward(const Tensor& images) override;

 private:
  struct Conv {
    Tensor weight, bias;  // batch norm folded in
    int stride, pad_h, pad_w;
  };
  Tensor conv(const std::string& name, const Tensor& x) const;
  Tensor block_a(const std::string& name, const Tensor& x) const;
  Tensor block_b(const std::string& name, const Tensor& x) const;
  Tensor block_c(const std::string& name, const Tensor& x) const;
  Tensor block_d(const std::string& name, const Tensor& x) const;
  Tensor block_e(const std::string& name, const Tensor& x, bool max_pool) const;

  Device device_;
  std::map<std::string, Conv> convs_;
  Tensor fc_weight_t_, fc_bias_;  // [2048, 1008], [1008]
};

// From a safetensors file; a missing file ends with how to make one (tools/inception_to_safetensors.py).
std::unique_ptr<FeatureNet> load_inception(const std::string& path, Device device);

}  // namespace sg::eval
