// Training loop smoke tests on tiny synthetic data: losses finite, parameters change, ADA moves p,
// checkpoints round-trip exactly, and a resumed run continues bit-identically on the CPU.
#include <cmath>
#include <filesystem>

#include "autograd/autograd.h"
#include "engine/rng.h"
#include "models/training_loop.h"
#include "ops/shape/shape.h"
#include "tests/test_util.h"

using namespace sg;
namespace fs = std::filesystem;

namespace {

// Eight fixed grayscale images (8x8 unless asked) served in a fixed order; the state is the position.
struct SyntheticData {
  int resolution = 8;
  Tensor images = test::random_tensor({8, 1, resolution, resolution}, 99, DType::Float32);
  int64_t position = 0;
  RandomGenerator label_rng{5};

  SyntheticData() = default;
  explicit SyntheticData(int res) : resolution(res), images(test::random_tensor({8, 1, res, res}, 99, DType::Float32)) {}

  RealDataSource source() {
    RealDataSource s;
    s.resolution = resolution;
    s.channels = 1;
    s.label_dim = 0;
    s.name = "synthetic";
    s.next = [this](int64_t n, Device device) {
      Tensor idx = Tensor::empty({n}, DType::Int64);
      for (int64_t i = 0; i < n; ++i) idx.data<int64_t>()[i] = (position + i) % 8;
      position += n;
      return std::make_pair(raw::to(index_select(images, 0, idx), DType::Float32, device),
                            Tensor::zeros({n, 0}, DType::Float32, device));
    };
    s.random_labels = [](int64_t n, Device device) { return Tensor::zeros({n, 0}, DType::Float32, device); };
    s.save_state = [this] { return std::to_string(position); };
    s.load_state = [this](const std::string& state) { position = std::stoll(state); };
    return s;
  }
};

TrainingOptions tiny_options(const std::string& outdir) {
  TrainingOptions o;
  o.outdir = outdir;
  o.cfg = "auto";
  o.batch = 4;
  o.batch_gpu = 2;  // two accumulation rounds per step
  o.kimg = 1;
  o.seed = 3;
  o.grid_w = 2;
  o.grid_h = 2;
  // ADA adjusting p after every minibatch by 0.04, so a few iterations show it moving.
  o.aug = "ada";
  o.p = 0.2;
  o.ada_interval = 1;
  o.ada_kimg = 0.1;
  o.adjust_spec = [](TrainingSpec& spec) {
    spec.G.z_dim = spec.G.w_dim = 8;
    for (int* base : {&spec.G.synthesis.channel_base, &spec.D.channel_base}) *base = 64;
    for (int* max : {&spec.G.synthesis.channel_max, &spec.D.channel_max}) *max = 8;
    spec.D.mbstd_group_size = 2;
    spec.loss.style_mixing_prob = 0.5;
  };
  return o;
}

std::map<std::string, std::vector<double>> snapshot(Module& m) {
  std::map<std::string, std::vector<double>> values;
  for (auto& [name, t] : m.named_state()) values[name] = t->to_vector();
  return values;
}

}  // namespace

TEST_CASE("training: a few iterations change the parameters and keep them finite") {
  fs::path dir = fs::temp_directory_path() / "sg_training_smoke";
  fs::remove_all(dir);
  SyntheticData data;
  Trainer trainer(tiny_options(dir.string()), data.source());
  auto before = snapshot(trainer.G());
  auto d_before = snapshot(trainer.D());
  trainer.train_iterations(17);  // covers Greg (every 4) and Dreg (every 16)
  CHECK(trainer.cur_nimg() == 17 * 4);
  auto after = snapshot(trainer.G());
  auto d_after = snapshot(trainer.D());
  int changed = 0;
  for (auto& [name, values] : after) {
    for (double v : values) CHECK_MESSAGE(std::isfinite(v), name);
    changed += values != before[name];
  }
  CHECK(changed > 10);
  CHECK(d_after != d_before);
  CHECK(snapshot(trainer.G_ema()) != snapshot(trainer.G()));  // the EMA lags behind G
  // 17 steps of +-0.04 from 0.2 cannot return to 0.2 (an odd count; 0 when clamped).
  CHECK(trainer.augment_p() != doctest::Approx(0.2));
  CHECK(trainer.augment_p() >= 0);
  fs::remove_all(dir);
}

TEST_CASE("training: checkpoints round-trip exactly and resume continues bit-identically") {
  fs::path dir = fs::temp_directory_path() / "sg_training_resume";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string ckpt = (dir / "ckpt.safetensors").string();

  SyntheticData straight_data;
  Trainer straight(tiny_options(dir.string()), straight_data.source());
  straight.train_iterations(6);

  SyntheticData first_data;
  {
    Trainer first(tiny_options(dir.string()), first_data.source());
    first.train_iterations(3);
    first.save_checkpoint(ckpt);
    CHECK_FALSE(fs::exists(ckpt + ".tmp"));
  }
  SyntheticData resumed_data;
  TrainingOptions o = tiny_options(dir.string());
  o.resume = ckpt;
  Trainer resumed(o, resumed_data.source());
  CHECK(resumed.cur_nimg() == 12);
  CHECK(resumed_data.position == first_data.position);
  resumed.train_iterations(3);

  for (auto pair : {std::make_pair(&straight.G(), &resumed.G()), std::make_pair(&straight.G_ema(), &resumed.G_ema())}) {
    auto a = snapshot(*pair.first), b = snapshot(*pair.second);
    for (auto& [name, values] : a) CHECK_MESSAGE(values == b[name], name, " differs after resume");
  }
  CHECK(resumed.augment_p() == straight.augment_p());
  auto da = snapshot(straight.D()), db = snapshot(resumed.D());
  for (auto& [name, values] : da) CHECK_MESSAGE(values == db[name], name, " differs after resume");

  // A checkpoint of another configuration is refused before training starts.
  TrainingOptions other = tiny_options(dir.string());
  other.resume = ckpt;
  other.adjust_spec = [](TrainingSpec& spec) {
    spec.G.z_dim = spec.G.w_dim = 16;
    for (int* base : {&spec.G.synthesis.channel_base, &spec.D.channel_base}) *base = 64;
    for (int* max : {&spec.G.synthesis.channel_max, &spec.D.channel_max}) *max = 8;
    spec.D.mbstd_group_size = 2;
  };
  SyntheticData other_data;
  CHECK_THROWS_WITH_ALL(Trainer(other, other_data.source()), "resume", "another configuration");
  fs::remove_all(dir);
}

TEST_CASE("training: bad options fail before training") {
  SyntheticData data;
  TrainingOptions o = tiny_options("/tmp/sg_unused");
  o.aug = "always";
  CHECK_THROWS_WITH_ALL(Trainer(o, data.source()), "--aug must be ada, noaug or fixed", "always");
  o = tiny_options("/tmp/sg_unused");
  o.p = 1.5;
  CHECK_THROWS_WITH_ALL(Trainer(o, data.source()), "--p must be in [0, 1]");
  o = tiny_options("/tmp/sg_unused");
  o.augpipe = "bgx";
  CHECK_THROWS_WITH(Trainer(o, data.source()), doctest::Contains("bgx"));
  o = tiny_options("/tmp/sg_unused");
  o.batch_gpu = 3;
  CHECK_THROWS_WITH_ALL(Trainer(o, data.source()), "--batch 4", "--batch-gpu 3");
  o = tiny_options("/tmp/sg_unused");
  o.reg_type = "ggdr";
  o.ggdr_res = 8;
  CHECK_THROWS_WITH_ALL(Trainer(o, data.source()), "--ggdr-res", "[8, 4]");
}

TEST_CASE("training: GGDR with ADA on CUDA, float16 blocks down to the GGDR resolution") {
  SG_REQUIRE_CUDA();
  // D's decoder output at 8x8 is float16 here while G's feature target is float32.
  fs::path dir = fs::temp_directory_path() / "sg_training_ggdr_cuda";
  fs::remove_all(dir);
  SyntheticData data(16);
  TrainingOptions o = tiny_options(dir.string());
  o.device = Device::CUDA;
  o.reg_type = "ggdr";
  o.ggdr_res = 8;
  auto base = o.adjust_spec;
  o.adjust_spec = [base](TrainingSpec& spec) {
    base(spec);
    spec.G.synthesis.num_fp16_res = spec.D.num_fp16_res = 2;  // 16 and 8
    spec.G.synthesis.conv_clamp = spec.D.conv_clamp = 256;
  };
  Trainer trainer(o, data.source());
  trainer.train_iterations(2);
  for (auto& [name, t] : trainer.D().named_state())
    for (double v : t->to_vector()) REQUIRE_MESSAGE(std::isfinite(v), name);
  fs::remove_all(dir);
}
