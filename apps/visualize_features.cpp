// visualize_features: G's feature maps and D's decoded maps (GGDR) as colour images, as in the
// GGDR paper's figures. One PNG grid: a column per seed; rows are the generated image, G's
// features at --res and, when D has a GGDR decoder, D's reconstruction of them from the image.
// The colours are the three leading principal components of G's features; D's maps go through
// the same projection, so matching colours mean matching feature vectors.
//   visualize_features --network=run/network-snapshot-000200.safetensors --seeds=0-7
#include <filesystem>
#include <iostream>

#include "apps/common/app_args.h"
#include "autograd/autograd.h"
#include "data/image_io.h"
#include "engine/rng.h"
#include "eval/feature_pca.h"
#include "models/network_file.h"
#include "ops/elementwise/elementwise.h"
#include "ops/shape/shape.h"

using namespace sg;

namespace {

const char* kUsage = R"(usage: visualize_features --network=PATH [options]
  --network=PATH      training checkpoint (G_ema and D are used)
  --seeds=LIST        e.g. 0-7 or 1,5,9 (default 0-7)
  --res=R             feature resolution (default: D's GGDR resolution, else 16)
  --trunc=PSI         truncation psi (default 1)
  --out=FILE          output PNG (default features.png)
  --device=cpu|cuda   default: cuda when available
)";

// Nearest-neighbour enlargement of a CPU float32 [N, C, h, w] map to [N, C, h*f, w*f].
Tensor enlarge(const Tensor& maps, int64_t factor) {
  int64_t n = maps.size(0), c = maps.size(1), h = maps.size(2), w = maps.size(3);
  Tensor src = raw::contiguous(raw::to(maps, DType::Float32, Device::CPU));
  Tensor out = Tensor::empty({n, c, h * factor, w * factor}, DType::Float32);
  const float* in = src.data<float>();
  float* dst = out.data<float>();
  for (int64_t plane = 0; plane < n * c; ++plane)
    for (int64_t y = 0; y < h * factor; ++y)
      for (int64_t x = 0; x < w * factor; ++x)
        dst[(plane * h * factor + y) * w * factor + x] = in[(plane * h + y / factor) * w + x / factor];
  return out;
}

int run(const AppArgs& args) {
  std::string network = args.require("network");
  std::vector<uint64_t> seeds = parse_seeds(args.get("seeds", "0-7"), "visualize_features");
  Device device = args.device();
  SafetensorsFile file = load_safetensors(network);
  std::unique_ptr<Generator> G = load_generator(file, device);
  std::unique_ptr<Discriminator> D;
  if (file.metadata.count("D_kwargs")) D = load_discriminator(file, device);
  int ggdr_res = D ? D->config().ggdr_res : 0;
  int res = args.get_int("res", ggdr_res > 0 ? ggdr_res : 16);
  int img_res = G->config().img_resolution;
  SG_CHECK(res >= 4 && res <= img_res && (res & (res - 1)) == 0, "visualize_features: --res must be a power of two in [4, ",
           img_res, "], got ", res);
  SG_CHECK(G->config().c_dim == 0, "visualize_features: conditional networks are not supported");
  NoGradGuard no_grad;

  int64_t n = int64_t(seeds.size());
  std::vector<Tensor> zs;
  for (uint64_t seed : seeds) {
    RandomGenerator rng(seed);
    zs.push_back(randn({1, G->config().z_dim}, rng, DType::Float32, device));
  }
  Tensor c = Tensor::zeros({n, 0}, DType::Float32, device);
  std::map<int, Tensor> features;
  SynthesisOptions synth;
  synth.noise_mode = NoiseMode::Const;
  synth.features = &features;
  Tensor images = G->forward(cat(zs, 0), c, args.get_double("trunc", 1.0), -1, synth);
  SG_CHECK(features.count(res), "visualize_features: G has no block output at resolution ", res);

  eval::PcaProjection pca = eval::PcaProjection::fit(features.at(res));
  std::vector<Tensor> rows = {raw::to(images, DType::Float32, Device::CPU),
                              enlarge(pca.to_rgb(features.at(res)), img_res / res)};
  if (rows[0].size(1) == 1) rows[0] = repeat(rows[0], {1, 3, 1, 1});
  if (ggdr_res > 0 && res == ggdr_res) {
    std::map<int, Tensor> decoded;
    D->forward(images, c, &decoded);
    rows.push_back(enlarge(pca.to_rgb(decoded.at(res)), img_res / res));
  } else if (D && ggdr_res > 0) {
    std::cout << "D decodes at " << ggdr_res << "x" << ggdr_res << " only; its row is left out at --res " << res << "\n";
  }
  std::string out = args.get("out", "features.png");
  if (auto dir = std::filesystem::path(out).parent_path(); !dir.empty()) std::filesystem::create_directories(dir);
  save_image_grid(out, cat(rows, 0), int(n), int(rows.size()));
  std::cout << "wrote " << out << ": " << n << " seeds; rows: image, G features at " << res << "x" << res
            << (rows.size() == 3 ? ", D decoded" : "") << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app(argc, argv, kUsage, run); }
