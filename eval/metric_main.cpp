#include "eval/metric_main.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>

#include "autograd/autograd.h"
#include "engine/nvtx.h"
#include "engine/rng.h"
#include "eval/metrics.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"

namespace sg::eval {

namespace fs = std::filesystem;

namespace {

struct MetricSpec {
  std::string name;
  bool needs_real, capture_all, logits;
  int64_t max_real;  // < 0: the whole dataset
};

const std::vector<MetricSpec>& specs() {
  static const std::vector<MetricSpec> table = {{"fid50k_full", true, false, false, -1},
                                                {"kid50k_full", true, true, false, 1000000},
                                                {"pr50k3_full", true, true, false, 200000},
                                                {"is50k", false, true, true, 0}};
  return table;
}

const MetricSpec& spec_of(const std::string& name) {
  for (const MetricSpec& s : specs())
    if (s.name == name) return s;
  std::string known;
  for (const MetricSpec& s : specs()) known += (known.empty() ? "" : ", ") + s.name;
  SG_FAIL("metrics: unknown metric '", name, "' (known: ", known, ")");
}

std::string format_seconds(double s) {
  char buf[64];
  if (s < 60) std::snprintf(buf, sizeof(buf), "%ds", int(s));
  else if (s < 3600) std::snprintf(buf, sizeof(buf), "%dm %02ds", int(s) / 60, int(s) % 60);
  else std::snprintf(buf, sizeof(buf), "%dh %02dm %02ds", int(s) / 3600, int(s) / 60 % 60, int(s) % 60);
  return buf;
}

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : text) h = (h ^ ch) * 0x100000001b3ull;
  return h;
}

std::string cache_dir(const MetricOptions& options) {
  if (!options.cache_dir.empty()) return options.cache_dir;
  if (const char* env = std::getenv("SG_CACHE_DIR")) return env;
  const char* home = std::getenv("HOME");
  return (fs::path(home ? home : ".") / ".cache" / "sg-metrics").string();
}

// Prints "<what>: n / total" about every 10% (and at the end).
class Progress {
 public:
  Progress(std::string what, int64_t total, bool enabled) : what_(std::move(what)), total_(total), enabled_(enabled) {}
  void update(int64_t done) {
    if (!enabled_ || (done < total_ && done < next_)) return;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::cout << "  " << what_ << ": " << done << " / " << total_ << " images, " << format_seconds(s) << std::endl;
    next_ = done + std::max<int64_t>(total_ / 10, 1);
  }

 private:
  std::string what_;
  int64_t total_, next_ = 0;
  bool enabled_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Features of dataset images [0, count), decoded by a few threads per batch.
FeatureStats dataset_features(const ImageDataset& data, FeatureNet& net, int64_t count, bool capture_all,
                              const MetricOptions& options) {
  NvtxRange range("metrics/dataset_features");
  FeatureStats stats(net.feature_dim(), capture_all);
  Progress progress("dataset features", count, options.progress);
  const int64_t image_bytes = data.image_bytes();
  for (int64_t start = 0; start < count; start += options.batch) {
    int64_t n = std::min(options.batch, count - start);
    std::vector<uint8_t> pixels(size_t(n * image_bytes));
    const int64_t workers = std::min<int64_t>(8, n);
    std::vector<std::future<void>> jobs;
    for (int64_t w = 0; w < workers; ++w)
      jobs.push_back(std::async(std::launch::async, [&, w] {
        for (int64_t i = w; i < n; i += workers) data.read_image(start + i, pixels.data() + i * image_bytes);
      }));
    for (auto& job : jobs) job.get();
    Tensor images = Tensor::empty({n, data.channels(), data.resolution(), data.resolution()}, DType::Float32);
    float* dst = images.data<float>();
    for (size_t i = 0; i < pixels.size(); ++i) dst[i] = float(pixels[i]) / 255.0f;
    stats.append(net.forward(raw::to(images, DType::Float32, net.device())).features);
    progress.update(start + n);
  }
  return stats;
}

// Dataset features from the cache, computing and storing them on a miss.
FeatureStats cached_dataset_features(const std::string& dataset_path, FeatureNet& net, const MetricSpec& spec,
                                     const MetricOptions& options) {
  DatasetOptions data_options;  // the full dataset, no x-flips, labels not needed
  ImageDataset data(dataset_path, data_options);
  int64_t cap = options.max_real >= 0 ? options.max_real : spec.max_real;
  int64_t count = cap < 0 ? data.size() : std::min(cap, data.size());
  fs::path file(dataset_path);
  std::string key = str_cat(fs::absolute(file).string(), "|", fs::is_regular_file(file) ? fs::file_size(file) : 0, "|",
                            fs::last_write_time(file).time_since_epoch().count(), "|", net.name(), "|", net.feature_dim(),
                            "|", count, "|", spec.capture_all);
  char hash[17];
  std::snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)fnv1a(key));
  fs::path path = fs::path(cache_dir(options)) / (data.name() + "-" + net.name() + "-" + hash + ".safetensors");
  if (fs::exists(path)) {
    if (options.progress) std::cout << "  dataset features from cache " << path.string() << std::endl;
    return FeatureStats::load(path.string());
  }
  FeatureStats stats = dataset_features(data, net, count, spec.capture_all, options);
  fs::create_directories(path.parent_path());
  stats.save(path.string(), key);
  return stats;
}

// Features (or softmax probabilities) of generated images, converted through uint8 as official.
FeatureStats generator_features(Generator& G, const std::string& dataset_path, FeatureNet& net, bool capture_all,
                                bool probabilities, const MetricOptions& options) {
  NvtxRange range("metrics/generator_features");
  NoGradGuard no_grad;
  Device device = net.device();
  int64_t c_dim = G.config().c_dim;
  std::unique_ptr<ImageDataset> labelled;
  if (c_dim > 0) {
    DatasetOptions data_options;
    data_options.use_labels = true;
    labelled = std::make_unique<ImageDataset>(dataset_path, data_options);
    SG_CHECK(labelled->label_dim() == c_dim, "metrics: the generator takes ", c_dim, " labels, the dataset has ",
             labelled->label_dim());
  }
  SG_CHECK(!probabilities || net.num_classes() > 0, "metrics: detector '", net.name(), "' has no logits for the IS");
  FeatureStats stats(probabilities ? net.num_classes() : net.feature_dim(), capture_all);
  RandomGenerator rng(options.seed);
  Progress progress("generated features", options.num_gen, options.progress);
  for (int64_t done = 0; done < options.num_gen; done += options.batch) {
    int64_t n = std::min(options.batch, options.num_gen - done);
    Tensor z = randn({n, G.config().z_dim}, rng, DType::Float32, device);
    Tensor c = Tensor::zeros({n, c_dim}, DType::Float32, device);
    if (labelled) {
      std::vector<double> labels;
      Tensor picks = randint({n}, 0, labelled->size(), rng);
      for (double i : picks.to_vector())
        for (float v : labelled->label(int64_t(i))) labels.push_back(v);
      c = Tensor::from_vector(labels, {n, c_dim}, DType::Float32, device);
    }
    SynthesisOptions synth;
    synth.noise_mode = NoiseMode::Random;
    synth.noise_rng = &rng;
    Tensor img = G.forward(z, c, 1, -1, synth);
    // uint8(clamp(x * 127.5 + 128, 0, 255)), then the detector's [0, 1] input.
    Tensor u8 = floor(clamp(add(mul(raw::to(img, DType::Float32, device), 127.5), 128), 0, 255));
    FeatureOutput out = net.forward(mul(u8, 1.0 / 255));
    if (probabilities) {
      Tensor shifted = sub(out.logits, amax(out.logits, {1}, true));
      Tensor e = exp(shifted);
      stats.append(div(e, sum(e, {1}, true)));
    } else {
      stats.append(out.features);
    }
    progress.update(done + n);
  }
  return stats;
}

}  // namespace

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const MetricSpec& s : specs()) out.push_back(s.name);
    return out;
  }();
  return names;
}

bool is_valid_metric(const std::string& name) {
  for (const MetricSpec& s : specs())
    if (s.name == name) return true;
  return false;
}

nlohmann::json compute_metric(const std::string& name, Generator& G, const std::string& dataset_path,
                              FeatureNet& detector, const MetricOptions& options, const std::string& snapshot) {
  const MetricSpec& spec = spec_of(name);
  NvtxRange range(("metric " + name).c_str());
  auto start = std::chrono::steady_clock::now();
  if (options.progress) std::cout << "Computing " << name << " with detector " << detector.name() << std::endl;
  std::string suffix = detector.name() == "inception" ? "" : "_" + detector.name();
  nlohmann::json results;
  if (spec.name == "is50k") {
    FeatureStats probs = generator_features(G, dataset_path, detector, true, true, options);
    InceptionScore is = inception_score(probs.all(), 10);
    results["is50k_mean" + suffix] = is.mean;
    results["is50k_std" + suffix] = is.std;
  } else {
    FeatureStats real = cached_dataset_features(dataset_path, detector, spec, options);
    FeatureStats gen = generator_features(G, dataset_path, detector, spec.capture_all, false, options);
    if (spec.name == "fid50k_full") {
      results[name + suffix] = fid_from_stats(real, gen);
    } else if (spec.name == "kid50k_full") {
      results[name + suffix] = kernel_inception_distance(real.all(), gen.all(), 100, 1000, options.seed);
    } else {
      PrecisionRecall pr = precision_recall(real.all(), gen.all(), 3);
      results["pr50k3_full_precision" + suffix] = pr.precision;
      results["pr50k3_full_recall" + suffix] = pr.recall;
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  nlohmann::json line = {{"results", results},     {"metric", name + suffix},
                         {"total_time", seconds},  {"total_time_str", format_seconds(seconds)},
                         {"num_gpus", 1},          {"snapshot_pkl", snapshot},
                         {"timestamp", now}};
  if (options.num_gen != 50000) line["num_gen"] = options.num_gen;  // a non-official sample count
  if (options.progress) std::cout << line.dump() << std::endl;
  return line;
}

void append_metric_jsonl(const std::string& run_dir, const nlohmann::json& result) {
  fs::path path = fs::path(run_dir) / ("metric-" + result.at("metric").get<std::string>() + ".jsonl");
  std::ofstream out(path, std::ios::app);
  SG_CHECK(bool(out), "metrics: cannot write ", path.string());
  out << result.dump() << "\n";
}

}  // namespace sg::eval
