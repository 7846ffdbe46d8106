// The metrics of stylegan2-ada-pytorch's metric_main by name, computed for a generator against a
// dataset with one feature network (eval/feature_net.h):
//   fid50k_full   FID of 50k generated images against the whole dataset (no x-flips)
//   kid50k_full   KID, up to 1M reals, 100 subsets of up to 1000
//   pr50k3_full   precision and recall, k = 3, up to 200k reals
//   is50k         Inception Score of 50k generated images, 10 splits
// With a detector other than Inception the result keys get the detector's name appended
// (fid50k_full_fmnist), so they are never mistaken for Inception numbers. Dataset features are
// cached on disk, keyed by the dataset file (path, size, time), the detector and the options.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "eval/feature_net.h"
#include "models/networks.h"

namespace sg::eval {

struct MetricOptions {
  int64_t num_gen = 50000;         // generated images; the official count unless testing
  int64_t max_real = -1;           // < 0: the metric's official cap
  int64_t batch = 64;              // images per feature-network call
  std::string cache_dir;           // "": $SG_CACHE_DIR, else ~/.cache/sg-metrics
  uint64_t seed = 0;               // latents and KID subsets
  bool progress = true;            // progress lines on stdout
};

const std::vector<std::string>& metric_names();
bool is_valid_metric(const std::string& name);

// {"results": {...}, "metric": name, "total_time": s, "total_time_str": ..., "num_gpus": 1,
//  "snapshot_pkl": snapshot, "timestamp": unix seconds}, as the official metric-<name>.jsonl lines.
nlohmann::json compute_metric(const std::string& name, Generator& G, const std::string& dataset_path,
                              FeatureNet& detector, const MetricOptions& options, const std::string& snapshot = "");

// Appends the result as one line of <run_dir>/metric-<name>.jsonl.
void append_metric_jsonl(const std::string& run_dir, const nlohmann::json& result);

}  // namespace sg::eval
