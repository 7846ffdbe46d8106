// Conversion of image collections into the training dataset format (see data/dataset.h).
// Sources: a folder of PNG images (searched recursively, sorted by relative path) or MNIST-style
// IDX files (train-images-idx3-ubyte, gzip or not; a labels-idx1 file beside it gives labels).
#pragma once
#include <string>

namespace sg {

struct DatasetToolOptions {
  std::string source, dest;
  int resolution = 0;                // 0: keep the source size (must then be square, power of two)
  std::string transform = "none";    // none, center-crop, pad
  int64_t max_images = -1;
  bool labels = true;                // write labels when the source has them
  bool verbose = true;
};

struct DatasetToolReport {
  int64_t written = 0, skipped = 0;
  int resolution = 0, channels = 0;
  bool has_labels = false;
};

DatasetToolReport convert_dataset(const DatasetToolOptions& options);

}  // namespace sg
