// The evaluation pipeline end to end on a tiny labelled dataset: the domain classifier learns
// and round-trips, the metric driver produces official-format results named after the detector,
// caches the dataset statistics, and bad detector files fail clearly.
#include <cmath>
#include <filesystem>
#include <fstream>

#include "autograd/autograd.h"
#include "data/image_io.h"
#include "engine/rng.h"
#include "engine/safetensors.h"
#include "eval/detectors.h"
#include "eval/domain_classifier.h"
#include "eval/metric_main.h"
#include "models/networks.h"
#include "tests/test_util.h"

using namespace sg;
namespace fs = std::filesystem;

namespace {

// 64 grayscale 8x8 images: class 0 dark, class 1 bright, with a little noise.
fs::path write_two_class_dataset(const fs::path& dir) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  RandomGenerator rng(3);
  std::vector<double> noise = rand({64, 64}, rng).to_vector();
  std::string labels;
  for (int i = 0; i < 64; ++i) {
    Image img{8, 8, 1, std::vector<uint8_t>(64)};
    for (int p = 0; p < 64; ++p) img.pixels[size_t(p)] = uint8_t((i % 2 ? 170 : 20) + 60 * noise[size_t(i * 64 + p)]);
    std::string name = "img" + std::to_string(100 + i) + ".png";
    write_png((dir / name).string(), img);
    labels += std::string(labels.empty() ? "" : ", ") + "[\"" + name + "\", " + std::to_string(i % 2) + "]";
  }
  std::ofstream(dir / "dataset.json") << "{\"labels\": [" << labels << "]}";
  return dir;
}

}  // namespace

TEST_CASE("eval: the domain classifier learns a separable dataset and round-trips exactly") {
  fs::path dir = write_two_class_dataset(fs::temp_directory_path() / "sg_eval_classes");
  eval::ClassifierTraining options;
  options.steps = 60;
  options.batch = 8;
  options.holdout = 0.25;
  double accuracy = 0;
  auto net = eval::train_domain_classifier(dir.string(), "twoclass", options, &accuracy);
  CHECK(accuracy >= 0.9);
  std::string path = (dir / "det.safetensors").string();
  net->save(path);
  std::unique_ptr<eval::FeatureNet> loaded = eval::load_feature_net(path, Device::CPU);
  CHECK(loaded->name() == "twoclass");
  NoGradGuard no_grad;
  Tensor images = rand({3, 1, 8, 8}, DType::Float32);
  CHECK(loaded->forward(images).features.to_vector() == net->forward(images).features.to_vector());
  CHECK(loaded->forward(images).features.shape() == Shape{3, eval::DomainClassifier::kFeatures});
  fs::remove_all(dir);
}

TEST_CASE("eval: metrics of a tiny generator are named after the detector and cache the dataset") {
  fs::path dir = write_two_class_dataset(fs::temp_directory_path() / "sg_eval_metrics");
  eval::ClassifierTraining options;
  options.steps = 2;
  options.batch = 8;
  auto detector = eval::train_domain_classifier(dir.string(), "twoclass", options, nullptr);
  detector->eval();
  nlohmann::json g_kwargs = {{"z_dim", 8}, {"w_dim", 8}, {"c_dim", 0}, {"img_resolution", 8}, {"img_channels", 1},
                             {"mapping_kwargs", {{"num_layers", 2}}},
                             {"synthesis_kwargs", {{"channel_base", 64}, {"channel_max", 8}}}};
  Generator G(GeneratorConfig::from_json(g_kwargs));
  G.eval();
  eval::MetricOptions metric;
  metric.num_gen = 20;
  metric.batch = 8;
  metric.cache_dir = (dir / "cache").string();
  metric.progress = false;
  nlohmann::json fid = eval::compute_metric("fid50k_full", G, dir.string(), *detector, metric, "snap");
  CHECK(fid.at("metric") == "fid50k_full_twoclass");
  CHECK(std::isfinite(fid.at("results").at("fid50k_full_twoclass").get<double>()));
  CHECK(fid.at("num_gen") == 20);
  CHECK(std::distance(fs::directory_iterator(dir / "cache"), fs::directory_iterator()) == 1);
  // The second evaluation reads the cached statistics and, with the same seed, agrees exactly.
  nlohmann::json again = eval::compute_metric("fid50k_full", G, dir.string(), *detector, metric, "snap");
  CHECK(again.at("results") == fid.at("results"));
  nlohmann::json is = eval::compute_metric("is50k", G, dir.string(), *detector, metric, "snap");
  CHECK(is.at("results").at("is50k_mean_twoclass").get<double>() >= 1.0);
  eval::append_metric_jsonl(dir.string(), fid);
  CHECK(fs::exists(dir / "metric-fid50k_full_twoclass.jsonl"));
  CHECK_THROWS_WITH(eval::compute_metric("fid10k", G, dir.string(), *detector, metric), doctest::Contains("unknown metric"));
  fs::remove_all(dir);
}

TEST_CASE("eval: missing or foreign detector files fail with a clear message") {
  CHECK_THROWS_WITH(eval::load_feature_net("/nonexistent/inception.safetensors", Device::CPU),
                    doctest::Contains("train_detector"));
  fs::path path = fs::temp_directory_path() / "sg_not_a_detector.safetensors";
  save_safetensors(path.string(), {{"x", Tensor::zeros({2})}}, {});
  CHECK_THROWS_WITH(eval::load_feature_net(path.string(), Device::CPU), doctest::Contains("neither"));
  fs::remove(path);
}
