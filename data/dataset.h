// Training datasets. The format (written by dataset_tool) is one safetensors file:
//   images  uint8 [N, C, R, R]   (C = 1 or 3, R a power of two)
//   labels  int64 [N]            (optional; class indices, one-hot encoded when read)
//   metadata {"format": "sg-dataset-1", "source": ...}
// Why not the official zip of PNGs: images are stored decoded, so the loader reads each one
// with a single pread at a known offset — no PNG decoding in the training loop, no archive
// index, any dataset size without loading it into memory — and the file is a standard container
// any safetensors reader can inspect.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace sg {

struct DatasetOptions {
  bool xflip = false;      // doubles the dataset with mirrored copies (official --mirror)
  bool use_labels = false;
  int64_t max_size = -1;   // keep a seeded random subset of this many images
  uint64_t seed = 0;
};

class ImageDataset {
 public:
  ImageDataset(const std::string& path, DatasetOptions options = {});
  ~ImageDataset();
  int64_t size() const;  // with x-flips
  int resolution() const { return resolution_; }
  int channels() const { return channels_; }
  int label_dim() const { return label_dim_; }
  const std::string& name() const { return name_; }
  // Writes image `index` (CHW uint8, mirrored for the x-flip half) to dst. Thread-safe.
  void read_image(int64_t index, uint8_t* dst) const;
  // One-hot label of image `index` (empty without labels).
  std::vector<float> label(int64_t index) const;

 private:
  std::string path_, name_;
  DatasetOptions options_;
  int fd_ = -1;
  int64_t data_offset_ = 0;  // file offset of image 0
  int resolution_ = 0, channels_ = 0, label_dim_ = 0;
  std::vector<int64_t> raw_index_;  // dataset index -> stored image (max_size subset)
  std::vector<int64_t> labels_;
};

// An infinite stream of batches: seeded shuffled order with the official window reshuffle,
// background worker threads decoding into a bounded queue, pinned host staging and an
// asynchronous copy to the GPU, conversion to float32 in [-1, 1]. The position can be saved and
// restored exactly (training resume).
class DataLoader {
 public:
  DataLoader(const ImageDataset& dataset, int64_t batch, uint64_t seed, int workers = 2, int prefetch = 3);
  ~DataLoader();
  // images [batch, C, R, R] float32 in [-1, 1] on `device`; labels [batch, label_dim] float32.
  std::pair<Tensor, Tensor> next(Device device);
  // Labels of `n` random dataset images (for generated images), drawn from `gen`.
  Tensor random_labels(int64_t n, Device device, RandomGenerator& gen) const;
  std::string state() const;  // the number of samples consumed, as text
  void set_state(const std::string& state);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg
