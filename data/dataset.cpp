#include "data/dataset.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "engine/cuda_check.h"
#include "engine/nvtx.h"
#include "engine/safetensors.h"
#include "ops/elementwise/elementwise.h"
#include "ops/shape/shape.h"

namespace sg {

ImageDataset::ImageDataset(const std::string& path, DatasetOptions options) : path_(path), options_(options) {
  SafetensorsIndex index = read_safetensors_index(path);
  SG_CHECK(index.entries.count("images"), "dataset: ", path, " has no 'images' tensor; make datasets with dataset_tool");
  const SafetensorsEntry& images = index.entries.at("images");
  SG_CHECK(images.dtype == DType::UInt8 && images.shape.size() == 4 && images.shape[2] == images.shape[3] &&
               (images.shape[1] == 1 || images.shape[1] == 3),
           "dataset: ", path, ": expected images uint8 [N, 1 or 3, R, R], got ", dtype_name(images.dtype),
           shape_str(images.shape));
  int64_t n = images.shape[0];
  SG_CHECK(n > 0, "dataset: ", path, " holds no images");
  resolution_ = int(images.shape[2]);
  channels_ = int(images.shape[1]);
  SG_CHECK(resolution_ >= 4 && (resolution_ & (resolution_ - 1)) == 0, "dataset: ", path,
           ": resolution must be a power of two, got ", resolution_);
  data_offset_ = index.data_start + images.begin;
  name_ = std::filesystem::path(path).stem().string();
  if (options.use_labels) {
    SG_CHECK(index.entries.count("labels"), "dataset: ", path, " has no labels but conditioning was requested (--cond)");
    const SafetensorsEntry& e = index.entries.at("labels");
    SG_CHECK(e.dtype == DType::Int64 && e.shape == Shape{n}, "dataset: ", path, ": expected labels int64 [", n, "]");
    labels_.resize(n);
    std::ifstream in(path, std::ios::binary);
    in.seekg(index.data_start + e.begin);
    in.read(reinterpret_cast<char*>(labels_.data()), n * 8);
    int64_t max_label = 0;
    for (int64_t l : labels_) {
      SG_CHECK(l >= 0, "dataset: ", path, ": negative label ", l);
      max_label = std::max(max_label, l);
    }
    label_dim_ = int(max_label + 1);
  }
  raw_index_.resize(n);
  for (int64_t i = 0; i < n; ++i) raw_index_[i] = i;
  if (options.max_size >= 0 && options.max_size < n) {
    // A seeded Fisher-Yates subset, kept in storage order.
    RandomGenerator gen(options.seed);
    std::vector<double> u = rand({n}, gen, DType::Float64).to_vector();
    for (int64_t i = n - 1; i > 0; --i) std::swap(raw_index_[i], raw_index_[int64_t(u[i] * (i + 1))]);
    raw_index_.resize(options.max_size);
    std::sort(raw_index_.begin(), raw_index_.end());
  }
  fd_ = ::open(path.c_str(), O_RDONLY);
  SG_CHECK(fd_ >= 0, "dataset: cannot open ", path);
}

ImageDataset::~ImageDataset() {
  if (fd_ >= 0) ::close(fd_);
}

int64_t ImageDataset::size() const { return int64_t(raw_index_.size()) * (options_.xflip ? 2 : 1); }

void ImageDataset::read_image(int64_t index, uint8_t* dst) const {
  SG_CHECK(index >= 0 && index < size(), "dataset: index ", index, " out of range for ", size(), " images");
  int64_t base = int64_t(raw_index_.size());
  bool mirrored = index >= base;
  int64_t stored = raw_index_[mirrored ? index - base : index];
  int64_t bytes = int64_t(channels_) * resolution_ * resolution_;
  int64_t done = 0;
  while (done < bytes) {
    ssize_t got = ::pread(fd_, dst + done, size_t(bytes - done), off_t(data_offset_ + stored * bytes + done));
    SG_CHECK(got > 0, "dataset: ", path_, ": short read of image ", stored);
    done += got;
  }
  if (mirrored)
    for (int64_t row = 0; row < int64_t(channels_) * resolution_; ++row) std::reverse(dst + row * resolution_, dst + (row + 1) * resolution_);
}

std::vector<float> ImageDataset::label(int64_t index) const {
  std::vector<float> onehot(label_dim_, 0.0f);
  if (label_dim_ > 0) onehot[labels_[raw_index_[index % int64_t(raw_index_.size())]]] = 1;
  return onehot;
}

// ---------------------------------------------------------------------------------------------

namespace {

// The official InfiniteSampler: a seeded shuffle, then after yielding position i the element is
// swapped with one at most `window` positions earlier, so epochs differ without a full reshuffle.
class WindowSampler {
 public:
  WindowSampler(int64_t n, uint64_t seed) : n_(n), seed_(seed) { reset(); }
  void reset() {
    gen_ = RandomGenerator(seed_);
    order_.resize(n_);
    for (int64_t i = 0; i < n_; ++i) order_[i] = i;
    std::vector<double> u = rand({n_}, gen_, DType::Float64).to_vector();
    for (int64_t i = n_ - 1; i > 0; --i) std::swap(order_[i], order_[int64_t(u[i] * (i + 1))]);
    window_ = int64_t(std::llround(double(n_) * 0.5));
    position_ = 0;
  }
  int64_t next() {
    int64_t i = position_ % n_;
    int64_t value = order_[i];
    if (window_ >= 2) {
      int64_t j = (i - int64_t(uniform() * double(window_)) % window_ + n_) % n_;
      std::swap(order_[i], order_[j]);
    }
    ++position_;
    return value;
  }
  int64_t position() const { return position_; }

 private:
  double uniform() {
    return rand({1}, gen_, DType::Float64).item();
  }
  int64_t n_;
  uint64_t seed_;
  RandomGenerator gen_;
  std::vector<int64_t> order_;
  int64_t window_ = 0, position_ = 0;
};

}  // namespace

struct DataLoader::Impl {
  const ImageDataset& dataset;
  int64_t batch;
  int64_t image_bytes;
  WindowSampler sampler;
  int64_t consumed = 0;  // samples handed to the caller
  int workers_count, prefetch;

  struct Batch {
    int64_t first_sample;
    std::vector<uint8_t> pixels;
    std::vector<float> labels;
    std::string error;
  };
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::vector<int64_t>> work;        // index lists waiting for a worker, in order
  std::map<int64_t, Batch> ready;               // decoded batches by first sample number
  int64_t next_to_schedule = 0;
  bool stopping = false;
  std::vector<std::thread> threads;

  // Pinned staging for the asynchronous host-to-device copy; the event guards its reuse.
  uint8_t* pinned = nullptr;
  cudaEvent_t copy_done = nullptr;

  Impl(const ImageDataset& d, int64_t b, uint64_t seed, int workers, int depth)
      : dataset(d), batch(b), image_bytes(int64_t(d.channels()) * d.resolution() * d.resolution()),
        sampler(d.size(), seed), workers_count(std::max(workers, 1)), prefetch(std::max(depth, 1)) {}

  void start() {
    stopping = false;
    for (int w = 0; w < workers_count; ++w) threads.emplace_back([this] { worker(); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    changed.notify_all();
    for (std::thread& t : threads) t.join();
    threads.clear();
    work.clear();
    ready.clear();
  }

  // Called with the lock held: keeps `prefetch` batches scheduled ahead of the consumer.
  void schedule() {
    while (next_to_schedule < consumed + prefetch * batch) {
      std::vector<int64_t> indices(batch + 1);
      indices[0] = next_to_schedule;  // the first sample number identifies the batch
      for (int64_t i = 0; i < batch; ++i) indices[i + 1] = sampler.next();
      work.push_back(std::move(indices));
      next_to_schedule += batch;
    }
    changed.notify_all();
  }

  void worker() {
    while (true) {
      std::vector<int64_t> indices;
      {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] { return stopping || !work.empty(); });
        if (stopping) return;
        indices = std::move(work.front());
        work.pop_front();
      }
      Batch b;
      b.first_sample = indices[0];
      b.pixels.resize(size_t(batch * image_bytes));
      b.labels.reserve(size_t(batch) * dataset.label_dim());
      try {
        for (int64_t i = 0; i < batch; ++i) {
          dataset.read_image(indices[i + 1], b.pixels.data() + i * image_bytes);
          std::vector<float> l = dataset.label(indices[i + 1]);
          b.labels.insert(b.labels.end(), l.begin(), l.end());
        }
      } catch (const std::exception& e) {
        b.error = e.what();
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        ready[b.first_sample] = std::move(b);
      }
      changed.notify_all();
    }
  }

  Batch take() {
    std::unique_lock<std::mutex> lock(mutex);
    schedule();
    changed.wait(lock, [&] { return ready.count(consumed) > 0; });
    Batch b = std::move(ready.at(consumed));
    ready.erase(consumed);
    consumed += batch;
    schedule();
    return b;
  }
};

DataLoader::DataLoader(const ImageDataset& dataset, int64_t batch, uint64_t seed, int workers, int prefetch)
    : impl_(std::make_unique<Impl>(dataset, batch, seed, workers, prefetch)) {
  SG_CHECK(batch > 0, "loader: batch must be positive");
  impl_->start();
}

DataLoader::~DataLoader() {
  impl_->stop();
  if (impl_->pinned) cudaFreeHost(impl_->pinned);
  if (impl_->copy_done) cudaEventDestroy(impl_->copy_done);
}

std::pair<Tensor, Tensor> DataLoader::next(Device device) {
  NvtxRange range("data");
  Impl::Batch b = impl_->take();
  SG_CHECK(b.error.empty(), "loader: ", b.error);
  const ImageDataset& d = impl_->dataset;
  Shape shape = {impl_->batch, d.channels(), d.resolution(), d.resolution()};
  Tensor raw_images = Tensor::empty(shape, DType::UInt8, device);
  if (device == Device::CUDA) {
    size_t bytes = b.pixels.size();
    if (!impl_->pinned) {
      CUDA_CHECK(cudaHostAlloc(reinterpret_cast<void**>(&impl_->pinned), bytes, cudaHostAllocDefault));
      CUDA_CHECK(cudaEventCreateWithFlags(&impl_->copy_done, cudaEventDisableTiming));
    } else {
      CUDA_CHECK(cudaEventSynchronize(impl_->copy_done));  // the previous copy has left the buffer
    }
    std::memcpy(impl_->pinned, b.pixels.data(), bytes);
    CUDA_CHECK(cudaMemcpyAsync(raw_images.data_ptr(), impl_->pinned, bytes, cudaMemcpyHostToDevice, current_stream()));
    CUDA_CHECK(cudaEventRecord(impl_->copy_done, current_stream()));
  } else {
    std::memcpy(raw_images.data_ptr(), b.pixels.data(), b.pixels.size());
  }
  Tensor images = add(mul(cast(raw_images, DType::Float32), 1 / 127.5), -1.0);
  std::vector<double> label_values(b.labels.begin(), b.labels.end());
  Tensor labels = Tensor::from_vector(label_values, {impl_->batch, d.label_dim()}, DType::Float32, device);
  return {images, labels};
}

Tensor DataLoader::random_labels(int64_t n, Device device, RandomGenerator& gen) const {
  const ImageDataset& d = impl_->dataset;
  std::vector<double> values;
  if (d.label_dim() > 0) {
    std::vector<double> u = rand({n}, gen, DType::Float64).to_vector();
    for (double x : u) {
      std::vector<float> l = d.label(std::min<int64_t>(int64_t(x * double(d.size())), d.size() - 1));
      values.insert(values.end(), l.begin(), l.end());
    }
  }
  return Tensor::from_vector(values, {n, d.label_dim()}, DType::Float32, device);
}

std::string DataLoader::state() const { return std::to_string(impl_->consumed); }

void DataLoader::set_state(const std::string& state) {
  int64_t consumed = std::stoll(state);
  SG_CHECK(consumed >= 0 && consumed % impl_->batch == 0, "loader: bad saved position '", state, "'");
  impl_->stop();
  // Replaying the sampler reproduces its order exactly; it costs one step per consumed sample.
  impl_->sampler.reset();
  for (int64_t i = 0; i < consumed; ++i) impl_->sampler.next();
  impl_->consumed = consumed;
  impl_->next_to_schedule = consumed;
  impl_->start();
}

}  // namespace sg
