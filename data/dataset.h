// Training datasets in the official format, interchangeable with stylegan2-ada-pytorch: a folder
// or a ZIP archive of PNG (or JPEG) images, usually `{idx/1000:05d}/img{idx:08d}.png` as written
// by dataset_tool, plus an optional `dataset.json` at the root:
//   {"labels": [["00000/img00000000.png", 6], ...]}   (or {"labels": null})
// Images are the files with an image extension, sorted by relative path; the first one fixes the
// shape [C, R, R] (C = 1 or 3, R a power of two >= 4) and every other must match. Integer labels
// become one-hot vectors of max+1 classes; lists of numbers are used as float vectors.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace sg {

class Archive;

struct DatasetOptions {
  // Keep a random subset of this many images (official --subset), in sorted order. The subset is a
  // seeded Fisher-Yates shuffle drawn from Philox (not numpy's RandomState), so it is reproducible
  // here but not the same images the official code would pick.
  int64_t max_size = -1;
  uint64_t seed = 0;
  bool xflip = false;       // doubles the dataset; the second half is mirrored (official --mirror)
  bool use_labels = false;  // without it label_dim() is 0, as official
};

struct DatasetItem {
  std::vector<uint8_t> image;  // [C, R, R]
  std::vector<float> label;    // [label_dim]
};

class ImageDataset {
 public:
  explicit ImageDataset(const std::string& path, DatasetOptions options = {});
  ~ImageDataset();
  ImageDataset(const ImageDataset&) = delete;
  ImageDataset& operator=(const ImageDataset&) = delete;

  int64_t size() const;                       // images after max_size, doubled by xflip
  int64_t raw_size() const { return int64_t(files_.size()); }  // image files found
  int resolution() const { return resolution_; }
  int channels() const { return channels_; }
  int label_dim() const { return label_dim_; }
  int64_t image_bytes() const { return int64_t(channels_) * resolution_ * resolution_; }
  const std::string& name() const { return name_; }  // the file or folder name without .zip
  const std::string& path() const { return path_; }
  // Relative path of the image behind `index` (its mirrored copy included).
  const std::string& file_name(int64_t index) const;

  // Image `index` as [C, R, R] uint8 into dst (image_bytes() bytes), mirrored for the x-flip
  // half. Thread-safe. Throws sg::Error naming the file when it is corrupt or of another shape.
  void read_image(int64_t index, uint8_t* dst) const;
  std::vector<float> label(int64_t index) const;  // [label_dim]
  DatasetItem get(int64_t index) const;

 private:
  int64_t stored(int64_t index) const;  // index -> position in files_

  std::string path_, name_;
  DatasetOptions options_;
  std::unique_ptr<Archive> archive_;
  std::vector<int64_t> files_;       // archive file indices of the images, sorted by name
  std::vector<int64_t> raw_index_;   // dataset index (before x-flip) -> position in files_
  int resolution_ = 0, channels_ = 0, label_dim_ = 0;
  std::vector<float> labels_;        // [files_.size(), label_dim]
};

}  // namespace sg
