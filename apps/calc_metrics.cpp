// calc_metrics: evaluates a generator checkpoint with the official metrics and appends the
// results to metric-<name>.jsonl beside the checkpoint.
//   calc_metrics --network=run/network-snapshot-000200.safetensors --data=set.zip
//                --detector=detectors/fmnist32.safetensors --metrics=fid50k_full,kid50k_full
#include <filesystem>
#include <iostream>
#include <sstream>

#include "apps/common/app_args.h"
#include "eval/detectors.h"
#include "eval/metric_main.h"
#include "models/network_file.h"

using namespace sg;

namespace {

const char* kUsage = R"(usage: calc_metrics --network=CKPT --data=DATASET --detector=FILE [options]
  --network=PATH      training checkpoint (G_ema is evaluated) (required)
  --data=PATH         the dataset the network was trained on (required)
  --detector=FILE     feature network: a domain classifier (train_detector) or Inception-v3
                      weights in safetensors (required)
  --metrics=LIST      comma-separated: fid50k_full, kid50k_full, pr50k3_full, is50k
                      (default fid50k_full)
  --samples=N         generated images (default 50000, the official count)
  --cache-dir=DIR     dataset feature cache (default $SG_CACHE_DIR or ~/.cache/sg-metrics)
  --seed=N            latents and KID subsets (default 0)
  --device=cpu|cuda   default: cuda when available
)";

int run(const AppArgs& args) {
  std::string network = args.require("network"), data = args.require("data");
  std::vector<std::string> metrics;
  std::stringstream list(args.get("metrics", "fid50k_full"));
  for (std::string m; std::getline(list, m, ',');) {
    SG_CHECK(eval::is_valid_metric(m), "calc_metrics: unknown metric '", m, "'");
    metrics.push_back(m);
  }
  SG_CHECK(std::filesystem::exists(data), "calc_metrics: dataset ", data, " does not exist");
  Device device = args.device();
  std::unique_ptr<eval::FeatureNet> detector = eval::load_feature_net(args.require("detector"), device);
  std::unique_ptr<Generator> G = load_generator(load_safetensors(network), device);
  eval::MetricOptions options;
  options.num_gen = args.get_int("samples", 50000);
  options.cache_dir = args.get("cache-dir", "");
  options.seed = uint64_t(args.get_int("seed", 0));
  SG_CHECK(options.num_gen >= 10, "calc_metrics: --samples must be at least 10");
  std::string run_dir = std::filesystem::path(network).parent_path().string();
  for (const std::string& m : metrics) {
    nlohmann::json result = eval::compute_metric(m, *G, data, *detector, options, network);
    eval::append_metric_jsonl(run_dir.empty() ? "." : run_dir, result);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app(argc, argv, kUsage, run); }
