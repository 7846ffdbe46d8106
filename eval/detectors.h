// Feature networks from files, by what the file holds: a domain classifier written by
// train_detector, or Inception-v3 weights with pytorch-fid key names.
#pragma once
#include <memory>
#include <string>

#include "eval/feature_net.h"

namespace sg::eval {

std::unique_ptr<FeatureNet> load_feature_net(const std::string& path, Device device);

}  // namespace sg::eval
