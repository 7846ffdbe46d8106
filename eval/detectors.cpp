#include "eval/detectors.h"

#include <filesystem>

#include "engine/safetensors.h"
#include "eval/domain_classifier.h"
#include "eval/inception.h"

namespace sg::eval {

std::unique_ptr<FeatureNet> load_feature_net(const std::string& path, Device device) {
  SG_CHECK(std::filesystem::exists(path), "metrics: detector file ", path, " does not exist. Use a domain classifier "
           "made by `train_detector --data=DATASET --out=FILE`, or Inception-v3 weights converted from "
           "pt_inception-2015-12-05-6726825d.pth (see README, Evaluation)");
  SafetensorsFile file = load_safetensors(path);
  auto format = file.metadata.find("format");
  if (format != file.metadata.end() && format->second == "sg-domain-classifier-1") return DomainClassifier::load(path, device);
  if (file.has("Mixed_5b.branch1x1.conv.weight")) return std::make_unique<InceptionV3>(file.tensors, device);
  SG_FAIL("metrics: ", path, " is neither a domain classifier (train_detector) nor Inception-v3 weights");
}

}  // namespace sg::eval
