// The StyleGAN2-ADA training loop for one GPU (or the CPU), with the official semantics:
// phases Gmain/Greg/Dmain/Dreg with lazy regularisation (G every 4, D every 16 minibatches, with
// learning rate and betas scaled by I/(I+1)), Adam, gradient accumulation over batch_gpu rounds,
// G EMA with ramp-up, adaptive discriminator augmentation (ADA), ticks with a progress line and
// stats.jsonl, image grids and checkpoints. Unlike the official trainer, a checkpoint holds
// everything (optimizer moments, pl_mean, augment p and the ADA statistics, RNG and sampler
// state, progress), so --resume continues a run exactly where it stopped.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eval/feature_net.h"
#include "models/configs.h"
#include "models/loss.h"
#include "models/networks.h"

namespace sg {

// Where real images come from: `next` returns images [N, C, H, W] float32 in [-1, 1] and labels
// [N, label_dim] on the device; `random_labels` draws labels of dataset images for fakes.
struct RealDataSource {
  int resolution = 0, channels = 0, label_dim = 0;
  std::string name;
  std::function<std::pair<Tensor, Tensor>(int64_t batch, Device device)> next;
  std::function<Tensor(int64_t batch, Device device)> random_labels;
  std::function<std::string()> save_state;  // opaque sampler state for checkpoints
  std::function<void(const std::string&)> load_state;
};

struct TrainingOptions {
  std::string outdir;
  std::string cfg = "auto";
  int gpus = 1;
  std::optional<int> batch, batch_gpu;
  std::optional<double> gamma;
  std::optional<int> kimg;
  int kimg_per_tick = 4;
  int snap = 50;  // image and network snapshots every `snap` ticks
  int grid_w = 0, grid_h = 0;  // snapshot grid; 0: the official size for the resolution
  std::string aug = "ada";      // ada, fixed, noaug
  double p = 0;                 // initial (ada) or constant (fixed) augmentation probability
  double target = 0.6;          // ADA target for the mean sign of D's outputs on reals
  std::string augpipe = "bgc";  // preset of models/augment.h
  int ada_interval = 4;         // minibatches between p adjustments
  double ada_kimg = 500;        // kimg for p to move from 0 to 1 at full speed
  std::string resume;  // checkpoint path to continue from
  uint64_t seed = 0;
  bool fp32 = false;
  std::string reg_type = "none";  // none, ggdr
  int ggdr_res = 64;
  // Metrics evaluated on G_ema at every network snapshot (eval/metric_main.h), with this feature
  // network file, against the dataset at metrics_data; appended to <run>/metric-<name>.jsonl.
  std::vector<std::string> metrics;
  std::string detector, metrics_data;
  int64_t metric_samples = 50000;
  int max_nonfinite_steps = 20;  // consecutive steps with non-finite gradients before giving up
  Device device = Device::CPU;
  std::function<void(TrainingSpec&)> adjust_spec;  // last-minute changes (e.g. a tiny config)
};

class Trainer {
 public:
  Trainer(const TrainingOptions& options, RealDataSource data);
  ~Trainer();
  // Trains until the kimg budget is spent; prints progress and writes snapshots to the run dir.
  void run();
  // Runs exactly `iterations` minibatches (no ticks or snapshots); tests use it.
  void train_iterations(int iterations);

  void save_checkpoint(const std::string& path);
  void load_checkpoint(const std::string& path);

  Generator& G() { return *G_; }
  Discriminator& D() { return *D_; }
  Generator& G_ema() { return *G_ema_; }
  const TrainingSpec& spec() const { return spec_; }
  int64_t cur_nimg() const { return cur_nimg_; }
  double augment_p() const;  // 0 without augmentation
  const std::string& run_dir() const { return run_dir_; }

 private:
  struct Optimizer;
  struct Augmentation;
  struct PhaseSpec {
    Phase phase;
    int interval;
  };
  void train_one_iteration();
  void optimizer_step(Optimizer& opt, Module& module);
  void update_ema();
  void write_tick(double tick_seconds, double maintenance_seconds, bool done);
  void save_image_snapshot(const std::string& filename);
  void evaluate_metrics(const std::string& snapshot);

  TrainingOptions options_;
  RealDataSource data_;
  TrainingSpec spec_;
  std::unique_ptr<Generator> G_, G_ema_;
  std::unique_ptr<Discriminator> D_;
  std::unique_ptr<StyleGAN2Loss> loss_;
  std::unique_ptr<Optimizer> opt_G_, opt_D_;
  std::unique_ptr<Augmentation> augment_;
  std::unique_ptr<eval::FeatureNet> detector_;  // null without --metrics
  RandomGenerator rng_;
  std::vector<PhaseSpec> phases_;
  std::string run_dir_;
  int64_t cur_nimg_ = 0, batch_idx_ = 0, cur_tick_ = 0, tick_start_nimg_ = 0;
  int nonfinite_streak_ = 0;
  Tensor grid_z_, grid_c_;
  std::map<std::string, std::vector<double>> tick_stats_;
};

}  // namespace sg
