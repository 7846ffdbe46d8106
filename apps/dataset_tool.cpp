// dataset_tool: converts a folder of PNG images or MNIST/Fashion-MNIST IDX files into the
// training dataset format (data/dataset.h).
// Example (Fashion-MNIST, 28x28 padded to 32x32):
//   dataset_tool --source=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
//                --dest=datasets/fmnist32.safetensors --resolution=32 --transform=pad
#include "apps/common/app_args.h"
#include "data/dataset_tool.h"

using namespace sg;

namespace {

const char* kUsage = R"(usage: dataset_tool --source=PATH --dest=FILE.safetensors [options]
  --source=PATH       folder of PNG images (recursive), or an IDX image file (gzip or not);
                      a matching *-labels-idx1-ubyte[.gz] beside it provides labels
  --dest=FILE         output dataset (safetensors: images uint8 [N, C, R, R], labels int64 [N])
  --resolution=R      output size, a power of two (default: the source size)
  --transform=MODE    none | center-crop | pad (letterbox into a square) (default none)
  --max-images=N      stop after N images
  --labels=0|1        write labels when the source has them (default 1)
Unreadable images are reported by name and skipped; their count is printed at the end.
)";

int run(const AppArgs& args) {
  DatasetToolOptions o;
  o.source = args.require("source");
  o.dest = args.require("dest");
  o.resolution = args.get_int("resolution", 0);
  o.transform = args.get("transform", "none");
  o.max_images = args.get_int("max-images", -1);
  o.labels = args.get_bool("labels", true);
  convert_dataset(o);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run_app(argc, argv, kUsage, run); }
