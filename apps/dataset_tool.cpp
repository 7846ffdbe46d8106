// dataset_tool: converts images into the training dataset format (data/dataset.h): the official
// stylegan2-ada-pytorch layout, a folder or a zip of PNGs with dataset.json.
// Example (Fashion-MNIST, 28x28 padded to 32x32, with its class labels):
//   dataset_tool --source=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
//                --dest=datasets/fmnist32.zip --resolution=32 --transform=pad
#include "apps/common/app_args.h"
#include "data/dataset_tool.h"

using namespace sg;

namespace {

const char* kUsage = R"(usage: dataset_tool --source=PATH --dest=PATH [options]
  --source=PATH       a folder of PNG/JPEG images (searched recursively), a .zip of them, or an
                      MNIST-style IDX image file train-images-idx3-ubyte[.gz]; labels come from a
                      dataset.json in the folder/zip, or from *-labels-idx1-ubyte[.gz] beside the IDX
  --dest=PATH         output: a folder (absent or empty) or a .zip (stored, uncompressed), holding
                      {idx/1000:05d}/img{idx:08d}.png and dataset.json, as the official tool writes
  --resolution=R      output side, a power of two >= 4 (default: the source size, which must then be
                      square and a power of two)
  --transform=MODE    none:        images must be square; resized to R
                      center-crop: crop the central square, then resize to R
                      pad:         letterbox into a black square (28x28 -> 32 is plain zero padding)
                      (default none). Shrinking averages areas, enlarging is bilinear.
  --max-images=N      stop after writing N images
  --labels[=0|1]      write labels when the source has them (default 1)
  --threads=N         decoding threads (default: the CPU count, at most 8)
Images that cannot be decoded are reported by name and skipped; their number is printed at the end.
)";

int run(const AppArgs& args) {
  DatasetToolOptions o;
  o.source = args.require("source");
  o.dest = args.require("dest");
  o.resolution = args.get_int("resolution", 0);
  o.transform = args.get("transform", "none");
  o.max_images = args.get_int("max-images", -1);
  o.labels = args.get_bool("labels", true);
  o.threads = args.get_int("threads", 0);
  convert_dataset(o);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app(argc, argv, kUsage, run); }
