// train_detector: the domain feature network for the metrics of datasets where Inception-v3 does
// not fit (e.g. Fashion-MNIST): a small classifier trained on the dataset's labels.
//   train_detector --data=datasets/fmnist32.zip --name=fmnist --out=detectors/fmnist32.safetensors
#include <filesystem>
#include <iostream>

#include "apps/common/app_args.h"
#include "eval/domain_classifier.h"

using namespace sg;

namespace {

const char* kUsage = R"(usage: train_detector --data=DATASET --out=FILE [options]
  --data=PATH         labelled dataset (dataset_tool output with dataset.json labels) (required)
  --out=FILE          where the classifier is written (.safetensors) (required)
  --name=NAME         its name in metric results, e.g. fid50k_full_NAME (default: the dataset's name)
  --steps=N           training steps (default 3000)
  --batch=N           minibatch (default 64)
  --lr=LR             Adam learning rate (default 0.001)
  --seed=N            random seed (default 0)
  --device=cpu|cuda   default: cuda when available
)";

int run(const AppArgs& args) {
  std::string data = args.require("data"), out = args.require("out");
  eval::ClassifierTraining options;
  options.steps = args.get_int("steps", 3000);
  options.batch = args.get_int("batch", 64);
  options.lr = args.get_double("lr", 1e-3);
  options.seed = uint64_t(args.get_int("seed", 0));
  options.device = args.device();
  SG_CHECK(options.steps > 0 && options.batch > 0, "train_detector: --steps and --batch must be positive");
  std::string name = args.get("name", std::filesystem::path(data).stem().string());
  double accuracy = 0;
  auto net = eval::train_domain_classifier(data, name, options, &accuracy);
  if (auto dir = std::filesystem::path(out).parent_path(); !dir.empty()) std::filesystem::create_directories(dir);
  net->save(out);
  std::cout << "held-out accuracy " << accuracy << "; wrote " << out << " (metrics will be named *_" << name << ")"
            << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app(argc, argv, kUsage, run); }
