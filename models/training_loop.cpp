#include "models/training_loop.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "autograd/autograd.h"
#include "data/image_io.h"
#include "engine/allocator.h"
#include "engine/nvtx.h"
#include "engine/safetensors.h"
#include "eval/detectors.h"
#include "eval/metric_main.h"
#include "models/augment.h"
#include "ops/adam/adam.h"
#include "ops/elementwise/elementwise.h"
#include "ops/shape/shape.h"

namespace sg {

namespace fs = std::filesystem;

struct Trainer::Optimizer {
  std::vector<Tensor> m, v;
  AdamParams params;
  Tensor nonfinite_count;  // int64 [1] on the device, read once per iteration
};

struct Trainer::Augmentation {
  std::unique_ptr<AugmentPipe> pipe;   // null with --aug noaug
  std::unique_ptr<AdaController> ada;  // null unless --aug ada
};

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string format_time(double seconds) {
  int64_t s = int64_t(seconds);
  std::ostringstream out;
  if (s >= 86400) out << s / 86400 << "d ";
  if (s >= 3600) out << std::setw(2) << std::setfill('0') << (s / 3600) % 24 << "h ";
  if (s >= 60) out << std::setw(2) << std::setfill('0') << (s / 60) % 60 << "m ";
  out << std::setw(2) << std::setfill('0') << s % 60 << "s";
  return out.str();
}

// Next free run directory "<outdir>/<5-digit id>-<desc>", as the official trainer names them.
std::string make_run_dir(const std::string& outdir, const std::string& desc) {
  fs::create_directories(outdir);
  int next_id = 0;
  for (const auto& entry : fs::directory_iterator(outdir)) {
    std::string name = entry.path().filename().string();
    if (name.size() > 5 && std::isdigit(name[0])) next_id = std::max(next_id, std::atoi(name.substr(0, 5).c_str()) + 1);
  }
  std::ostringstream id;
  id << std::setw(5) << std::setfill('0') << next_id;
  std::string dir = (fs::path(outdir) / (id.str() + "-" + desc)).string();
  fs::create_directories(dir);
  return dir;
}

void copy_params(Module& dst, Module& src) {
  NoGradGuard no_grad;
  auto own = dst.named_state();
  auto theirs = src.named_state();
  for (size_t i = 0; i < own.size(); ++i) own[i].second->copy_(*theirs[i].second);
}

}  // namespace

Trainer::Trainer(const TrainingOptions& options, RealDataSource data)
    : options_(options), data_(std::move(data)), rng_(options.seed) {
  const TrainingOptions& o = options_;
  SG_CHECK(o.aug == "ada" || o.aug == "noaug" || o.aug == "fixed", "train: --aug must be ada, noaug or fixed, got '",
           o.aug, "'");
  SG_CHECK(o.p >= 0 && o.p <= 1, "train: --p must be in [0, 1], got ", o.p);
  SG_CHECK(o.aug != "noaug" || o.p == 0, "train: --p needs --aug fixed or ada");
  SG_CHECK(o.target > 0 && o.target <= 1, "train: --target must be in (0, 1], got ", o.target);
  SG_CHECK(o.ada_interval > 0 && o.ada_kimg > 0, "train: the ADA interval and ada_kimg must be positive");
  SG_CHECK(o.reg_type == "none" || o.reg_type == "ggdr", "train: --reg-type must be none or ggdr, got '", o.reg_type, "'");
  spec_ = make_training_spec(o.cfg, data_.resolution, data_.channels, data_.label_dim, o.gpus, o.fp32);
  if (o.batch) {
    SG_CHECK(*o.batch > 0, "train: --batch must be positive");
    SG_CHECK(*o.batch % o.gpus == 0, "train: --batch ", *o.batch, " must be divisible by --gpus ", o.gpus);
    // As the official train.py: an explicit batch is split evenly over the GPUs, one round each.
    spec_.batch = *o.batch;
    spec_.batch_gpu = *o.batch / o.gpus;
  }
  if (o.batch_gpu) spec_.batch_gpu = *o.batch_gpu;
  SG_CHECK(spec_.batch % spec_.batch_gpu == 0, "train: --batch ", spec_.batch, " must be a multiple of --batch-gpu ",
           spec_.batch_gpu);
  SG_CHECK(spec_.batch_gpu % std::min(spec_.D.mbstd_group_size, spec_.batch_gpu) == 0, "train: --batch-gpu ",
           spec_.batch_gpu, " must be a multiple of the minibatch-std group size ", spec_.D.mbstd_group_size);
  if (o.gamma) spec_.loss.r1_gamma = *o.gamma;
  if (o.kimg) spec_.total_kimg = *o.kimg;
  if (o.reg_type == "ggdr") {
    SG_CHECK(o.ggdr_res >= 8 && o.ggdr_res <= data_.resolution / 2, "train: --ggdr-res must be in [8, ",
             data_.resolution / 2, "] for ", data_.resolution, "x", data_.resolution, " images, got ", o.ggdr_res);
    spec_.D.ggdr_res = o.ggdr_res;
    spec_.loss.ggdr_res = o.ggdr_res;
  }
  if (o.adjust_spec) o.adjust_spec(spec_);

  manual_seed(o.seed);  // network initialisation draws from the default generator
  G_ = std::make_unique<Generator>(spec_.G);
  D_ = std::make_unique<Discriminator>(spec_.D);
  G_ema_ = std::make_unique<Generator>(spec_.G);
  copy_params(*G_ema_, *G_);
  for (Module* m : {static_cast<Module*>(G_.get()), static_cast<Module*>(D_.get()), static_cast<Module*>(G_ema_.get())})
    m->to(o.device);
  G_ema_->eval();
  G_ema_->set_requires_grad(false);

  loss_ = std::make_unique<StyleGAN2Loss>(*G_, *D_, spec_.loss, rng_);
  augment_ = std::make_unique<Augmentation>();
  if (o.aug != "noaug") {
    augment_->pipe = std::make_unique<AugmentPipe>(AugmentConfig::preset(o.augpipe), rng_);
    augment_->pipe->p = o.p;
    if (o.aug == "ada")
      augment_->ada = std::make_unique<AdaController>(o.target, o.ada_interval, o.ada_kimg, spec_.batch);
    AugmentPipe* pipe = augment_->pipe.get();
    loss_->augment = [pipe](const Tensor& images, std::map<int, Tensor>* features) {
      return pipe->forward(images, features);
    };
  }
  // Lazy regularisation: a single Adam per network serves the main and the regularisation
  // phase; its learning rate and betas are scaled by I/(I+1) as official.
  auto make_optimizer = [&](Module& module, int interval) {
    auto opt = std::make_unique<Optimizer>();
    double ratio = double(interval) / (interval + 1);
    opt->params.lr = spec_.learning_rate * ratio;
    opt->params.beta1 = std::pow(0.0, ratio);
    opt->params.beta2 = std::pow(0.99, ratio);
    opt->params.eps = 1e-8;
    opt->params.step = 0;
    for (Tensor& p : module.parameters()) {
      opt->m.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
      opt->v.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
    }
    opt->nonfinite_count = Tensor::zeros({1}, DType::Int64, o.device);
    return opt;
  };
  opt_G_ = make_optimizer(*G_, spec_.g_reg_interval);
  opt_D_ = make_optimizer(*D_, spec_.d_reg_interval);
  bool has_pl = spec_.loss.pl_weight > 0;
  phases_ = {{Phase::Gmain, 1}};
  if (has_pl) phases_.push_back({Phase::Greg, spec_.g_reg_interval});
  phases_.push_back({Phase::Dmain, 1});
  if (spec_.loss.r1_gamma > 0) phases_.push_back({Phase::Dreg, spec_.d_reg_interval});

  // A fixed latent grid for the snapshots, as official (about 7680x4320 pixels).
  if (o.grid_w <= 0 || o.grid_h <= 0) {
    options_.grid_w = std::clamp(7680 / data_.resolution, 7, 32);
    options_.grid_h = std::clamp(4320 / data_.resolution, 4, 32);
  }
  int grid_w = options_.grid_w, grid_h = options_.grid_h;
  RandomGenerator grid_rng(o.seed + 12345);
  grid_z_ = randn({int64_t(grid_w) * grid_h, spec_.G.z_dim}, grid_rng, DType::Float32, o.device);
  grid_c_ = data_.random_labels(int64_t(grid_w) * grid_h, o.device);

  // The detector is loaded now so that a bad path or file stops the run before training.
  if (!o.metrics.empty()) {
    for (const std::string& m : o.metrics) SG_CHECK(eval::is_valid_metric(m), "train: unknown metric '", m, "'");
    SG_CHECK(!o.detector.empty(), "train: --metrics needs --detector (a train_detector output or Inception-v3 weights)");
    SG_CHECK(!o.metrics_data.empty(), "train: --metrics needs the dataset path");
    detector_ = eval::load_feature_net(o.detector, o.device);
  }

  if (!o.resume.empty()) load_checkpoint(o.resume);
}

Trainer::~Trainer() = default;

double Trainer::augment_p() const { return augment_->pipe ? augment_->pipe->p : 0.0; }

void Trainer::optimizer_step(Optimizer& opt, Module& module) {
  NvtxRange range("optimizer");
  ++opt.params.step;
  std::vector<Tensor> params = module.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor g = grad_of(params[i]);
    if (!g.defined()) continue;  // official Adam skips parameters without a gradient
    adam_step(params[i], g, opt.m[i], opt.v[i], opt.params, opt.nonfinite_count);
  }
}

void Trainer::update_ema() {
  NvtxRange range("G_ema");
  NoGradGuard no_grad;
  double ema_nimg = spec_.ema_kimg * 1000;
  if (spec_.ema_rampup) ema_nimg = std::min(ema_nimg, double(cur_nimg_) * *spec_.ema_rampup);
  double beta = std::pow(0.5, double(spec_.batch) / std::max(ema_nimg, 1e-8));
  auto ema_params = G_ema_->named_parameters();
  auto params = G_->named_parameters();
  for (size_t i = 0; i < params.size(); ++i) ema_params[i].second->copy_(lerp(*params[i].second, *ema_params[i].second, beta));
  // Buffers (w_avg, noise constants, filters) are copied, not averaged.
  auto ema_buffers = G_ema_->named_buffers();
  auto buffers = G_->named_buffers();
  for (size_t i = 0; i < buffers.size(); ++i) ema_buffers[i].second->copy_(*buffers[i].second);
}

void Trainer::train_one_iteration() {
  NvtxRange range("iteration");
  Device device = options_.device;
  int64_t batch = spec_.batch, batch_gpu = spec_.batch_gpu, rounds = batch / batch_gpu;
  auto [real_img, real_c] = data_.next(batch, device);
  Tensor all_z = randn({int64_t(phases_.size()) * batch, spec_.G.z_dim}, rng_, DType::Float32, device);
  Tensor all_c = data_.random_labels(int64_t(phases_.size()) * batch, device);

  for (size_t k = 0; k < phases_.size(); ++k) {
    const PhaseSpec& phase = phases_[k];
    if (batch_idx_ % phase.interval != 0) continue;
    bool g_phase = phase.phase == Phase::Gmain || phase.phase == Phase::Greg;
    Module& module = g_phase ? static_cast<Module&>(*G_) : static_cast<Module&>(*D_);
    module.zero_grad();
    for (int64_t r = 0; r < rounds; ++r) {
      auto chunk = [&](const Tensor& t, int64_t base) { return narrow(t, 0, base + r * batch_gpu, batch_gpu); };
      loss_->accumulate_gradients(phase.phase, chunk(real_img, 0), chunk(real_c, 0), chunk(all_z, int64_t(k) * batch),
                                  chunk(all_c, int64_t(k) * batch), double(phase.interval));
    }
    optimizer_step(g_phase ? *opt_G_ : *opt_D_, module);
  }

  update_ema();
  // One wait for the GPU per iteration: the reported values are read here, not as reported.
  for (const auto& [name, values] : loss_->stats) {
    std::vector<double> host = values.to_vector();
    auto& acc = tick_stats_[name];
    acc.insert(acc.end(), host.begin(), host.end());
    // ADA follows the signs of D's outputs on reals, reported by the Dmain and Dreg phases.
    if (augment_->ada && name == "Loss/signs/real") augment_->ada->accumulate(host);
  }
  loss_->stats.clear();
  cur_nimg_ += batch;
  ++batch_idx_;
  if (augment_->ada && batch_idx_ % options_.ada_interval == 0) augment_->pipe->p = augment_->ada->update(augment_->pipe->p);

  // Non-finite gradients are replaced (as official) but a long streak means the run diverged.
  int64_t nonfinite = int64_t(opt_G_->nonfinite_count.item() + opt_D_->nonfinite_count.item());
  opt_G_->nonfinite_count.fill_(0);
  opt_D_->nonfinite_count.fill_(0);
  tick_stats_["Progress/nonfinite_grads"].push_back(double(nonfinite));
  nonfinite_streak_ = nonfinite > 0 ? nonfinite_streak_ + 1 : 0;
  if (nonfinite > 0) std::cerr << "warning: " << nonfinite << " non-finite gradient values replaced at kimg "
                               << cur_nimg_ / 1000.0 << "\n";
  SG_CHECK(nonfinite_streak_ < options_.max_nonfinite_steps, "train: gradients were non-finite for ",
           nonfinite_streak_, " consecutive iterations; the run diverged (last snapshot in ", run_dir_, ")");
}

void Trainer::train_iterations(int iterations) {
  for (int i = 0; i < iterations; ++i) train_one_iteration();
}

void Trainer::save_image_snapshot(const std::string& filename) {
  NvtxRange range("image_snapshot");
  NoGradGuard no_grad;
  std::vector<Tensor> images;
  int64_t n = grid_z_.size(0);
  for (int64_t start = 0; start < n; start += spec_.batch_gpu) {
    int64_t count = std::min<int64_t>(spec_.batch_gpu, n - start);
    SynthesisOptions synth;
    synth.noise_mode = NoiseMode::Const;
    images.push_back(G_ema_->forward(narrow(grid_z_, 0, start, count), narrow(grid_c_, 0, start, count), 1, -1, synth));
  }
  save_image_grid((fs::path(run_dir_) / filename).string(), cat(images, 0), options_.grid_w, options_.grid_h);
}

void Trainer::evaluate_metrics(const std::string& snapshot) {
  if (!detector_) return;
  NvtxRange range("metrics");
  eval::MetricOptions metric_options;
  metric_options.num_gen = options_.metric_samples;
  metric_options.seed = options_.seed;
  for (const std::string& name : options_.metrics) {
    nlohmann::json result = eval::compute_metric(name, *G_ema_, options_.metrics_data, *detector_, metric_options, snapshot);
    eval::append_metric_jsonl(run_dir_, result);
  }
}

void Trainer::write_tick(double tick_seconds, double maintenance_seconds, bool done) {
  double kimg = cur_nimg_ / 1000.0;
  double sec_per_kimg = tick_seconds / std::max((cur_nimg_ - tick_start_nimg_) / 1000.0, 1e-8);
  double eta = sec_per_kimg * std::max(spec_.total_kimg - kimg, 0.0);
  double gpu_mem_gb = 0;
  if (options_.device == Device::CUDA) {
    gpu_mem_gb = cuda_allocator_stats().peak_allocated_bytes / double(1 << 30);
    cuda_allocator_reset_peak();
  }
  std::ostringstream line;
  line << std::fixed << "tick " << std::setw(5) << cur_tick_ << "  kimg " << std::setw(8) << std::setprecision(1) << kimg
       << "  sec/tick " << std::setw(7) << std::setprecision(1) << tick_seconds << "  sec/kimg " << std::setw(7)
       << std::setprecision(2) << sec_per_kimg << "  maintenance " << std::setw(5) << std::setprecision(1)
       << maintenance_seconds << "  gpumem " << std::setw(5) << std::setprecision(2) << gpu_mem_gb << "  augment "
       << std::setw(6) << std::setprecision(3) << augment_p() << "  ETA " << (done ? "done" : format_time(eta));
  std::cout << line.str() << std::endl;

  nlohmann::json stats = nlohmann::json::object();
  for (const auto& [name, values] : tick_stats_) {
    double sum = 0, sq = 0;
    for (double v : values) sum += v;
    double mean = values.empty() ? 0 : sum / values.size();
    for (double v : values) sq += (v - mean) * (v - mean);
    stats[name] = {{"num", values.size()}, {"mean", mean}, {"std", values.empty() ? 0 : std::sqrt(sq / values.size())}};
  }
  auto scalar = [&](const std::string& name, double value) { stats[name] = {{"num", 1}, {"mean", value}, {"std", 0}}; };
  scalar("Progress/tick", double(cur_tick_));
  scalar("Progress/kimg", kimg);
  scalar("Progress/augment", augment_p());
  scalar("Timing/sec_per_tick", tick_seconds);
  scalar("Timing/sec_per_kimg", sec_per_kimg);
  scalar("Timing/maintenance_sec", maintenance_seconds);
  scalar("Resources/peak_gpu_mem_gb", gpu_mem_gb);
  stats["timestamp"] = double(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count()) / 1000.0;
  std::ofstream((fs::path(run_dir_) / "stats.jsonl").string(), std::ios::app) << stats.dump() << "\n";
  tick_stats_.clear();
}

void Trainer::run() {
  const TrainingOptions& o = options_;
  if (run_dir_.empty()) {
    std::string desc = data_.name + "-" + spec_.name + (o.reg_type == "ggdr" ? "-ggdr" : "") + "-" + o.aug;
    run_dir_ = make_run_dir(o.outdir, desc);
  }
  nlohmann::json options_json = {{"cfg", o.cfg}, {"batch", spec_.batch}, {"batch_gpu", spec_.batch_gpu},
                                 {"gamma", spec_.loss.r1_gamma}, {"kimg", spec_.total_kimg}, {"aug", o.aug},
                                 {"augpipe", o.augpipe}, {"p", o.p}, {"target", o.target}, {"seed", o.seed},
                                 {"reg_type", o.reg_type}, {"ggdr_res", spec_.loss.ggdr_res},
                                 {"G_kwargs", spec_.G.to_json()}, {"D_kwargs", spec_.D.to_json()},
                                 {"device", device_name(o.device)}, {"data", data_.name}};
  std::ofstream((fs::path(run_dir_) / "training_options.json").string()) << options_json.dump(2) << "\n";
  std::cout << "Training for " << spec_.total_kimg << " kimg into " << run_dir_ << "\n"
            << "G: " << G_->num_parameters() << " parameters, D: " << D_->num_parameters() << " parameters, batch "
            << spec_.batch << " (" << spec_.batch_gpu << " per round), device " << device_name(o.device) << std::endl;
  if (cur_nimg_ == 0) save_image_snapshot("fakes_init.png");

  auto tick_start = Clock::now();
  double maintenance = 0;
  while (true) {
    train_one_iteration();
    bool done = cur_nimg_ >= int64_t(spec_.total_kimg) * 1000;
    if (!done && cur_tick_ != 0 && cur_nimg_ < tick_start_nimg_ + int64_t(o.kimg_per_tick) * 1000) continue;
    synchronize();
    double tick_seconds = seconds_since(tick_start);
    write_tick(tick_seconds, maintenance, done);
    auto maintenance_start = Clock::now();
    if (o.snap > 0 && (done || cur_tick_ % o.snap == 0)) {
      std::ostringstream kimg;
      kimg << std::setw(6) << std::setfill('0') << cur_nimg_ / 1000;
      save_image_snapshot("fakes" + kimg.str() + ".png");
      std::string snapshot = (fs::path(run_dir_) / ("network-snapshot-" + kimg.str() + ".safetensors")).string();
      save_checkpoint(snapshot);
      evaluate_metrics(snapshot);
    }
    ++cur_tick_;
    tick_start_nimg_ = cur_nimg_;
    maintenance = seconds_since(maintenance_start);
    tick_start = Clock::now();
    if (done) break;
  }
  std::ostringstream kimg;
  kimg << std::setw(6) << std::setfill('0') << cur_nimg_ / 1000;
  std::cout << "Done. Samples: " << (fs::path(run_dir_) / ("fakes" + kimg.str() + ".png")).string()
            << "\n      checkpoint: " << (fs::path(run_dir_) / ("network-snapshot-" + kimg.str() + ".safetensors")).string()
            << "\n      stats: " << (fs::path(run_dir_) / "stats.jsonl").string() << std::endl;
}

void Trainer::save_checkpoint(const std::string& path) {
  NvtxRange range("checkpoint");
  std::map<std::string, Tensor> tensors;
  for (auto& [name, t] : G_->state_dict()) tensors["G." + name] = t;
  for (auto& [name, t] : D_->state_dict()) tensors["D." + name] = t;
  for (auto& [name, t] : G_ema_->state_dict()) tensors["G_ema." + name] = t;
  auto save_opt = [&](const std::string& prefix, Optimizer& opt, Module& module) {
    auto params = module.named_parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      tensors[prefix + ".m." + params[i].first] = opt.m[i];
      tensors[prefix + ".v." + params[i].first] = opt.v[i];
    }
  };
  save_opt("opt_G", *opt_G_, *G_);
  save_opt("opt_D", *opt_D_, *D_);
  tensors["loss.pl_mean"] = loss_->pl_mean;
  GeneratorState rng = rng_.state();
  nlohmann::json progress = {{"cur_nimg", cur_nimg_}, {"batch_idx", batch_idx_}, {"cur_tick", cur_tick_},
                             {"tick_start_nimg", tick_start_nimg_}, {"opt_G_step", opt_G_->params.step},
                             {"opt_D_step", opt_D_->params.step}, {"augment_p", augment_p()},
                             {"rng_seed", std::to_string(rng.seed)}, {"rng_offset", std::to_string(rng.offset)},
                             {"run_dir", run_dir_}};
  if (augment_->ada) progress["ada"] = augment_->ada->state();
  if (data_.save_state) progress["sampler"] = data_.save_state();
  std::map<std::string, std::string> metadata = {
      {"format", "sg-checkpoint-1"}, {"progress", progress.dump()}, {"G_kwargs", spec_.G.to_json().dump()},
      {"D_kwargs", spec_.D.to_json().dump()}, {"cfg", spec_.name}};
  save_safetensors(path, tensors, metadata);
}

void Trainer::load_checkpoint(const std::string& path) {
  SafetensorsFile file = load_safetensors(path);
  SG_CHECK(file.metadata.count("progress") && file.metadata.count("G_kwargs"), "resume: ", path,
           " is not a training checkpoint of this engine (no progress metadata)");
  SG_CHECK(nlohmann::json::parse(file.metadata.at("G_kwargs")) == spec_.G.to_json(), "resume: ", path,
           " holds a generator with another configuration than this run (", file.metadata.at("G_kwargs"), ")");
  SG_CHECK(nlohmann::json::parse(file.metadata.at("D_kwargs")) == spec_.D.to_json(), "resume: ", path,
           " holds a discriminator with another configuration than this run");
  auto load_module = [&](const std::string& prefix, Module& module) {
    std::map<std::string, Tensor> state;
    for (auto& [name, t] : module.named_state()) state[name] = file.at(prefix + "." + name);
    module.load_state_dict(state);
  };
  load_module("G", *G_);
  load_module("D", *D_);
  load_module("G_ema", *G_ema_);
  auto load_opt = [&](const std::string& prefix, Optimizer& opt, Module& module) {
    auto params = module.named_parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      opt.m[i].copy_(file.at(prefix + ".m." + params[i].first));
      opt.v[i].copy_(file.at(prefix + ".v." + params[i].first));
    }
  };
  load_opt("opt_G", *opt_G_, *G_);
  load_opt("opt_D", *opt_D_, *D_);
  loss_->pl_mean = raw::to(file.at("loss.pl_mean"), DType::Float32, options_.device);
  nlohmann::json progress = nlohmann::json::parse(file.metadata.at("progress"));
  cur_nimg_ = progress.at("cur_nimg");
  batch_idx_ = progress.at("batch_idx");
  cur_tick_ = progress.at("cur_tick");
  tick_start_nimg_ = progress.at("tick_start_nimg");
  opt_G_->params.step = progress.at("opt_G_step");
  opt_D_->params.step = progress.at("opt_D_step");
  rng_.set_state({std::stoull(progress.at("rng_seed").get<std::string>()),
                  std::stoull(progress.at("rng_offset").get<std::string>())});
  if (augment_->pipe) augment_->pipe->p = progress.at("augment_p");
  if (augment_->ada && progress.contains("ada")) augment_->ada->set_state(progress.at("ada"));
  if (data_.load_state && progress.contains("sampler")) data_.load_state(progress.at("sampler"));
  run_dir_ = progress.value("run_dir", std::string());
  if (!run_dir_.empty() && !fs::is_directory(run_dir_)) run_dir_.clear();
  std::cout << "Resumed from " << path << " at kimg " << cur_nimg_ / 1000.0 << std::endl;
}

}  // namespace sg
