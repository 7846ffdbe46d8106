// generate: images from a trained generator (G_ema of a training checkpoint, or a safetensors
// state dict with official key names plus G_kwargs metadata), one PNG per seed or one grid.
//   generate --network=run/network-snapshot-000200.safetensors --seeds=0-7 --outdir=out
#include <filesystem>
#include <iostream>

#include "apps/common/app_args.h"
#include "autograd/autograd.h"
#include "data/image_io.h"
#include "engine/rng.h"
#include "engine/safetensors.h"
#include "models/network_file.h"
#include "ops/shape/shape.h"

using namespace sg;

namespace {

const char* kUsage = R"(usage: generate --network=PATH --seeds=LIST [options]
  --network=PATH      training checkpoint (G_ema is used) or a state dict with G_kwargs metadata
  --seeds=LIST        e.g. 0-7 or 1,5,9
  --outdir=DIR        output folder (default out)
  --trunc=PSI         truncation psi (default 1)
  --noise-mode=MODE   const, random or none (default const)
  --class=IDX         class label for conditional networks
  --grid=WxH          write one grid image instead of one PNG per seed
  --device=cpu|cuda   default: cuda when available
)";

int run(const AppArgs& args) {
  std::string network = args.require("network");
  std::vector<uint64_t> seeds = parse_seeds(args.require("seeds"), "generate");
  std::string outdir = args.get("outdir", "out");
  double psi = args.get_double("trunc", 1.0);
  NoiseMode noise_mode = parse_noise_mode(args.get("noise-mode", "const"));
  Device device = args.device();

  SafetensorsFile file = load_safetensors(network);
  std::unique_ptr<Generator> G_ptr = load_generator(file, device);
  Generator& G = *G_ptr;
  const GeneratorConfig& config = G.config();
  NoGradGuard no_grad;

  Tensor c = Tensor::zeros({1, config.c_dim}, DType::Float32, device);
  if (config.c_dim > 0) {
    SG_CHECK(args.has("class"), "generate: the network is conditional; pass --class=0..", config.c_dim - 1);
    int label = args.get_int("class", 0);
    SG_CHECK(label >= 0 && label < config.c_dim, "generate: --class must be in [0, ", config.c_dim, "), got ", label);
    std::vector<double> onehot(config.c_dim, 0.0);
    onehot[label] = 1;
    c = Tensor::from_vector(onehot, {1, config.c_dim}, DType::Float32, device);
  }
  std::filesystem::create_directories(outdir);
  SynthesisOptions synth;
  synth.noise_mode = noise_mode;
  std::vector<Tensor> images;
  for (uint64_t seed : seeds) {
    RandomGenerator rng(seed);
    Tensor z = randn({1, config.z_dim}, rng, DType::Float32, device);
    Tensor img = G.forward(z, c, psi, -1, synth);
    if (args.has("grid")) {
      images.push_back(img);
    } else {
      char name[64];
      std::snprintf(name, sizeof(name), "seed%04llu.png", (unsigned long long)seed);
      save_image_grid((std::filesystem::path(outdir) / name).string(), img, 1, 1);
    }
  }
  if (args.has("grid")) {
    std::string grid = args.get("grid", "");
    int gw = 0, gh = 0;
    SG_CHECK(std::sscanf(grid.c_str(), "%dx%d", &gw, &gh) == 2 && gw > 0 && gh > 0 && size_t(gw * gh) >= images.size(),
             "generate: --grid must be WxH with room for ", images.size(), " images, got '", grid, "'");
    while (images.size() < size_t(gw * gh)) images.push_back(Tensor::zeros(images[0].shape(), DType::Float32, device));
    save_image_grid((std::filesystem::path(outdir) / "grid.png").string(), cat(images, 0), gw, gh);
  }
  std::cout << "wrote " << (args.has("grid") ? 1 : seeds.size()) << " image(s) to " << outdir << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app(argc, argv, kUsage, run); }
