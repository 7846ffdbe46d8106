// The training-data stream: the official InfiniteSampler order, background threads decoding
// batches into a ring of host buffers (pinned when CUDA is available), an asynchronous copy on the
// current stream and conversion to float32 x / 127.5 - 1 on the device. The position is two plain
// integers (seed, samples consumed), and restoring them continues the stream bit-identically.
#pragma once
#include <cstdint>
#include <memory>

#include "data/dataset.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace sg {

// misc.InfiniteSampler of stylegan2-ada-pytorch (one replica): a seeded shuffle of [0, size),
// walked cyclically; after yielding position i, order[i] is swapped with order[(i - r) mod size]
// for r uniform in [0, window), window = rint(size * window_fraction) (no swaps below 2), so each
// pass differs from the last without a full reshuffle. Random numbers come from Philox keyed by
// the seed (not numpy's RandomState): the draw of step k depends on (seed, k) alone, so the state
// is (seed, position) and seek() replays the swaps, about 20 ns a step.
class InfiniteSampler {
 public:
  InfiniteSampler(int64_t size, uint64_t seed, double window_fraction = 0.5);
  int64_t next();
  int64_t position() const { return position_; }
  uint64_t seed() const { return seed_; }
  void seek(int64_t position);  // as if constructed and next() called `position` times

 private:
  void reset();
  int64_t size_;
  uint64_t seed_;
  int64_t window_;
  int64_t position_ = 0;
  std::vector<int64_t> order_;
};

struct LoaderState {
  uint64_t seed = 0;
  int64_t position = 0;  // samples handed to the caller (a multiple of the batch size)
};

struct LoaderBatch {
  Tensor images;  // [N, C, R, R] float32 in [-1, 1]
  Tensor labels;  // [N, label_dim] float32 (label_dim may be 0)
};

class DataLoader {
 public:
  // `workers` threads decode whole batches; `prefetch` batches are kept in flight.
  DataLoader(const ImageDataset& dataset, int64_t batch, uint64_t seed, int workers = 2, int prefetch = 3);
  ~DataLoader();  // stops and joins the workers
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // The next batch on `device`. A worker's failure (a corrupt file, ...) is rethrown here with the
  // file name; the stream then goes on with the next batch.
  LoaderBatch next(Device device);
  // Labels [n, label_dim] of uniformly drawn dataset images (the official random c for fakes).
  // On CUDA the upload is asynchronous, like the batches'.
  Tensor random_labels(int64_t n, Device device, RandomGenerator& gen);
  int64_t batch_size() const;
  LoaderState state() const;
  void set_state(const LoaderState& state);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg
