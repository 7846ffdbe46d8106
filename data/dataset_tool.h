// dataset_tool's logic (apps/dataset_tool.cpp is the command line): converts image collections
// into the official dataset format of data/dataset.h.
// Sources: a folder of PNG/JPEG images (recursive) or a zip of them, taking labels from a
// dataset.json beside them; or MNIST-style IDX files (train-images-idx3-ubyte, gzip or not) with
// labels from the matching *-labels-idx1-ubyte[.gz] in the same folder.
// Destination: a folder (absent or empty) or a .zip (entries stored uncompressed); images are
// written as uncompressed PNGs `{idx/1000:05d}/img{idx:08d}.png` with dataset.json, like the
// official tool. Images that cannot be decoded are reported by name and skipped; shape problems
// (non-square without a transform, mixed channel counts) stop the conversion.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/image_io.h"

namespace sg {

struct DatasetToolOptions {
  std::string source, dest;
  int resolution = 0;              // output side, a power of two; 0 keeps the source size
  std::string transform = "none";  // none | center-crop | pad
  int64_t max_images = -1;         // stop after writing this many images
  bool labels = true;              // write labels when the source has them
  int threads = 0;                 // decoding threads; 0: the hardware's, at most 8
  bool verbose = true;             // progress on stdout, skipped files on stderr
  int64_t progress_every = 5000;
};

struct DatasetToolReport {
  int64_t written = 0, skipped = 0;
  std::vector<std::string> skipped_names;
  int resolution = 0, channels = 0;
  bool has_labels = false;
};

DatasetToolReport convert_dataset(const DatasetToolOptions& options);

// "00012/img00012345.png": where image `index` goes in the official layout.
std::string dataset_image_name(int64_t index);

// The building blocks of the transforms, exposed for tests.
// Area averaging on each axis that shrinks (exact box filter for integer factors), bilinear with
// half-pixel centres on each axis that grows; results rounded to nearest.
Image resize_image(const Image& image, int width, int height);
Image center_crop(const Image& image);                // the central min(W, H) square
Image pad_to_square(const Image& image, int min_side);  // centred on black, side max(W, H, min_side)

}  // namespace sg
