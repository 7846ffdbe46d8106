// train: StyleGAN2 (optionally with GGDR) from a dataset made by dataset_tool. Flags follow the
// official train.py where they exist.
//   train --outdir=runs --data=datasets/fmnist32.zip --cfg=auto --kimg=200
#include <filesystem>
#include <iostream>
#include <sstream>

#include "apps/common/app_args.h"
#include "data/loader.h"
#include "models/training_loop.h"

using namespace sg;

namespace {

const char* kUsage = R"(usage: train --outdir=DIR --data=DATASET [options]
  --outdir=DIR        where run folders <id>-<desc> are created (required)
  --data=PATH         dataset folder or zip (official format; made by dataset_tool) (required)
  --cfg=NAME          auto, stylegan2, paper256, paper512, paper1024, cifar (default auto)
  --batch=N           total batch (default from --cfg)
  --batch-gpu=N       per-round batch; gradients accumulate over batch / batch-gpu rounds
  --gamma=G           R1 weight (default from --cfg)
  --kimg=N            training length in thousands of real images (default from --cfg)
  --tick=N            kimg per progress tick (default 4)
  --snap=N            snapshot (image grid + checkpoint) every N ticks (default 50)
  --mirror=0|1        x-flip augmentation of the dataset (default 0)
  --subset=N          train on a seeded random subset of N images (default: all)
  --cond=0|1          train on dataset labels (default 0)
  --aug=ada|fixed|noaug  discriminator augmentation: adaptive p (default), constant p, none
  --p=P               initial p for ada, the constant p for fixed (default 0)
  --target=T          ADA target for the mean sign of D's outputs on reals (default 0.6)
  --augpipe=NAME      blit, geom, color, filter, noise, cutout, bg, bgc, bgcf, bgcfn, bgcfnc (default bgc)
  --reg-type=none|ggdr, --ggdr-res=R   GGDR discriminator regularisation (default none, R 64)
  --metrics=LIST      evaluated at every snapshot: fid50k_full, kid50k_full, pr50k3_full, is50k (default none)
  --detector=FILE     feature network for --metrics: train_detector output or Inception-v3 weights
  --metric-samples=N  generated images per metric (default 50000, the official count)
  --resume=FILE       continue from a checkpoint written by this program
  --seed=N            random seed (default 0)
  --fp32=0|1          disable float16 layers and clamping (default 0)
  --workers=N         data loading threads (default 2)
  --device=cpu|cuda   default: cuda when available
  --tiny=0|1          a small network (channel_base 2048, max 128) for quick CPU runs
  --grid=WxH          snapshot grid size (default: the official ~7680x4320 pixels)
)";

int run(const AppArgs& args) {
  TrainingOptions o;
  o.outdir = args.require("outdir");
  std::string data_path = args.require("data");
  SG_CHECK(std::filesystem::exists(data_path), "train: dataset ", data_path, " does not exist (make one with dataset_tool)");
  o.cfg = args.get("cfg", "auto");
  if (args.has("batch")) o.batch = args.get_int("batch", 0);
  if (args.has("batch-gpu")) o.batch_gpu = args.get_int("batch-gpu", 0);
  if (args.has("gamma")) o.gamma = args.get_double("gamma", 0);
  if (args.has("kimg")) o.kimg = args.get_int("kimg", 0);
  o.kimg_per_tick = args.get_int("tick", 4);
  o.snap = args.get_int("snap", 50);
  o.aug = args.get("aug", "ada");
  o.p = args.get_double("p", 0);
  o.target = args.get_double("target", 0.6);
  o.augpipe = args.get("augpipe", "bgc");
  o.resume = args.get("resume", "");
  o.seed = uint64_t(args.get_int("seed", 0));
  o.fp32 = args.get_bool("fp32", false);
  o.reg_type = args.get("reg-type", "none");
  o.ggdr_res = args.get_int("ggdr-res", 64);
  o.device = args.device();
  std::stringstream metric_list(args.get("metrics", "none"));
  for (std::string m; std::getline(metric_list, m, ',');)
    if (m != "none") o.metrics.push_back(m);
  o.detector = args.get("detector", "");
  o.metrics_data = data_path;
  o.metric_samples = args.get_int("metric-samples", 50000);
  if (args.has("grid"))
    SG_CHECK(std::sscanf(args.get("grid", "").c_str(), "%dx%d", &o.grid_w, &o.grid_h) == 2 && o.grid_w > 0 && o.grid_h > 0,
             "train: --grid must be WxH, got '", args.get("grid", ""), "'");
  if (args.get_bool("tiny", false))
    o.adjust_spec = [](TrainingSpec& spec) {
      for (int* base : {&spec.G.synthesis.channel_base, &spec.D.channel_base}) *base = 2048;
      for (int* max : {&spec.G.synthesis.channel_max, &spec.D.channel_max}) *max = 128;
      spec.G.z_dim = spec.G.w_dim = 128;
    };

  DatasetOptions data_options;
  data_options.xflip = args.get_bool("mirror", false);
  data_options.use_labels = args.get_bool("cond", false);
  data_options.max_size = args.get_int("subset", -1);
  data_options.seed = o.seed;
  ImageDataset dataset(data_path, data_options);
  std::cout << "dataset " << dataset.name() << ": " << dataset.size() << " images, " << dataset.channels() << "x"
            << dataset.resolution() << "x" << dataset.resolution()
            << (dataset.label_dim() ? ", " + std::to_string(dataset.label_dim()) + " classes" : "") << std::endl;

  // The loader's batch is the whole minibatch; rounds are split inside the trainer.
  TrainingSpec probe = make_training_spec(o.cfg, dataset.resolution(), dataset.channels(), dataset.label_dim(), 1, o.fp32);
  int64_t batch = o.batch.value_or(probe.batch);
  DataLoader loader(dataset, batch, o.seed, args.get_int("workers", 2));
  RandomGenerator label_rng(o.seed + 7);
  RealDataSource source;
  source.resolution = dataset.resolution();
  source.channels = dataset.channels();
  source.label_dim = dataset.label_dim();
  source.name = dataset.name();
  source.next = [&](int64_t n, Device device) {
    SG_CHECK(n == batch, "train: the loader serves batches of ", batch, ", asked for ", n);
    LoaderBatch b = loader.next(device);
    return std::make_pair(b.images, b.labels);
  };
  source.random_labels = [&](int64_t n, Device device) { return loader.random_labels(n, device, label_rng); };
  // "<sampler seed> <samples consumed> <label RNG offset>"
  source.save_state = [&] {
    LoaderState s = loader.state();
    return std::to_string(s.seed) + " " + std::to_string(s.position) + " " + std::to_string(label_rng.state().offset);
  };
  source.load_state = [&](const std::string& state) {
    std::istringstream in(state);
    LoaderState s;
    uint64_t offset = 0;
    SG_CHECK(bool(in >> s.seed >> s.position >> offset), "train: bad sampler state '", state, "' in the checkpoint");
    loader.set_state(s);
    label_rng.set_state({o.seed + 7, offset});
  };
  Trainer trainer(o, source);
  trainer.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app(argc, argv, kUsage, run); }
