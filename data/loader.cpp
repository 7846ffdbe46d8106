#include "data/loader.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <numeric>
#include <thread>

#include "data/host_buffer.h"
#include "engine/cuda_check.h"
#include "engine/nvtx.h"
#include "engine/philox.h"
#include "ops/elementwise/elementwise.h"
#include "ops/shape/shape.h"

namespace sg {

namespace {

// Shuffle draws use counters with the top bit set, window draws the step number: disjoint streams.
constexpr uint64_t kShuffleCounter = uint64_t(1) << 63;

int64_t uniform_below(uint64_t seed, uint64_t counter, int64_t bound) {
  return std::min(int64_t(uniform_double(seed, counter) * double(bound)), bound - 1);
}

}  // namespace

InfiniteSampler::InfiniteSampler(int64_t size, uint64_t seed, double window_fraction)
    : size_(size), seed_(seed), window_(int64_t(std::nearbyint(double(size) * window_fraction))) {
  SG_CHECK(size > 0, "InfiniteSampler: expected a non-empty dataset, got size ", size);
  SG_CHECK(window_fraction >= 0 && window_fraction <= 1, "InfiniteSampler: window fraction must be in [0, 1], got ",
           window_fraction);
  reset();
}

void InfiniteSampler::reset() {
  order_.resize(size_);
  std::iota(order_.begin(), order_.end(), 0);
  for (int64_t i = size_ - 1; i > 0; --i) std::swap(order_[i], order_[uniform_below(seed_, kShuffleCounter + i, i + 1)]);
  position_ = 0;
}

int64_t InfiniteSampler::next() {
  int64_t i = position_ % size_;
  int64_t value = order_[i];
  if (window_ >= 2) {
    int64_t j = i - uniform_below(seed_, uint64_t(position_), window_);
    if (j < 0) j += size_;
    std::swap(order_[i], order_[j]);
  }
  ++position_;
  return value;
}

void InfiniteSampler::seek(int64_t position) {
  SG_CHECK(position >= 0, "InfiniteSampler: position must be >= 0, got ", position);
  if (position < position_) reset();
  while (position_ < position) next();
}

// ---------------------------------------------------------------------------------------------

namespace {

// One prefetched batch. Free -> Queued (indices drawn, by the consumer) -> Working (a worker fills
// it) -> Ready -> handed out -> Free. The consumer uses slot b % prefetch for batch b, so batches
// come out in sampler order whatever order the workers finish in.
struct Slot {
  enum class State { Free, Queued, Working, Ready };
  State state = State::Free;
  int64_t batch_number = -1;
  std::vector<int64_t> indices;
  HostBuffer pixels;  // [batch, C, R, R] uint8
  HostBuffer labels;  // [batch, label_dim] float32
  std::string error;
  // Recorded after the device copies out of the buffers; a worker waits for it before refilling.
  cudaEvent_t copied = nullptr;
  bool copy_pending = false;
};

// Pinned buffers for small host-to-device uploads made on the caller's thread (random labels):
// a copy is left in flight, and a buffer is only rewritten once its previous copy has finished.
// (Tensor::copy_ would synchronise the stream, stalling the CPU until the GPU catches up.)
class UploadRing {
 public:
  ~UploadRing() {
    for (Entry& e : entries_)
      if (e.copied) {
        cudaEventSynchronize(e.copied);  // destructors cannot throw
        cudaEventDestroy(e.copied);
      }
  }
  // Copies `bytes` from `src` into device memory `dst` on the current stream.
  void upload(void* dst, const void* src, size_t bytes) {
    Entry& e = entries_[next_++ % std::size(entries_)];
    if (e.copied) CUDA_CHECK(cudaEventSynchronize(e.copied));
    if (e.buffer.size() < bytes) e.buffer = HostBuffer(bytes);
    std::memcpy(e.buffer.data(), src, bytes);
    CUDA_CHECK(cudaMemcpyAsync(dst, e.buffer.data(), bytes, cudaMemcpyHostToDevice, current_stream()));
    if (!e.copied) CUDA_CHECK(cudaEventCreateWithFlags(&e.copied, cudaEventDisableTiming));
    CUDA_CHECK(cudaEventRecord(e.copied, current_stream()));
  }

 private:
  struct Entry {
    HostBuffer buffer;
    cudaEvent_t copied = nullptr;
  };
  Entry entries_[2];
  size_t next_ = 0;
};

}  // namespace

struct DataLoader::Impl {
  const ImageDataset& dataset;
  int64_t batch;
  int worker_count;
  InfiniteSampler sampler;
  std::vector<Slot> slots;
  int64_t taken = 0;      // batches handed to the caller
  int64_t scheduled = 0;  // batches whose indices were drawn
  std::mutex mutex;
  std::condition_variable work_changed, ready_changed;
  bool stopping = false;
  std::vector<std::thread> threads;
  UploadRing label_uploads;

  Impl(const ImageDataset& d, int64_t b, uint64_t seed, int workers, int prefetch)
      : dataset(d), batch(b), worker_count(workers), sampler(d.size(), seed), slots(size_t(prefetch)) {
    for (Slot& s : slots) {
      s.pixels = HostBuffer(size_t(batch * d.image_bytes()));
      s.labels = HostBuffer(size_t(batch) * d.label_dim() * sizeof(float));
    }
  }

  void start() {
    stopping = false;
    for (int w = 0; w < worker_count; ++w) threads.emplace_back([this] { work(); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    work_changed.notify_all();
    for (std::thread& t : threads) t.join();
    threads.clear();
  }

  // With the lock held: keeps every slot busy with the batches after the consumer's.
  void schedule() {
    int64_t depth = int64_t(slots.size());
    while (scheduled < taken + depth) {
      Slot& slot = slots[size_t(scheduled % depth)];
      slot.indices.resize(size_t(batch));
      for (int64_t& index : slot.indices) index = sampler.next();
      slot.batch_number = scheduled++;
      slot.state = Slot::State::Queued;
    }
    work_changed.notify_all();
  }

  void work() {
    while (true) {
      Slot* slot = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex);
        work_changed.wait(lock, [&] {
          slot = nullptr;
          if (stopping) return true;
          for (Slot& s : slots)
            if (s.state == Slot::State::Queued && (!slot || s.batch_number < slot->batch_number)) slot = &s;
          return slot != nullptr;
        });
        if (stopping) return;
        slot->state = Slot::State::Working;
      }
      fill(*slot);
      {
        std::lock_guard<std::mutex> lock(mutex);
        slot->state = Slot::State::Ready;
      }
      ready_changed.notify_all();
    }
  }

  void fill(Slot& slot) {
    slot.error.clear();
    try {
      if (slot.copy_pending) {
        CUDA_CHECK(cudaEventSynchronize(slot.copied));
        slot.copy_pending = false;
      }
      int64_t bytes = dataset.image_bytes(), dim = dataset.label_dim();
      for (int64_t i = 0; i < batch; ++i) {
        int64_t index = slot.indices[size_t(i)];
        dataset.read_image(index, slot.pixels.data() + i * bytes);
        if (dim > 0) {
          std::vector<float> label = dataset.label(index);
          std::memcpy(slot.labels.data() + i * dim * sizeof(float), label.data(), dim * sizeof(float));
        }
      }
    } catch (const std::exception& e) {
      slot.error = e.what();
    } catch (...) {
      slot.error = "unknown error while reading a batch";
    }
  }

  LoaderBatch convert(Slot& slot, Device device) {
    Shape shape = {batch, dataset.channels(), dataset.resolution(), dataset.resolution()};
    Tensor raw_images = Tensor::empty(shape, DType::UInt8, device);
    Tensor labels = Tensor::empty({batch, dataset.label_dim()}, DType::Float32, device);
    size_t image_bytes = size_t(raw_images.numel()), label_bytes = size_t(labels.numel()) * sizeof(float);
    if (device == Device::CUDA) {
      SG_CHECK(slot.pixels.pinned(), "loader: CUDA output needs pinned staging memory");
      cudaStream_t stream = current_stream();
      CUDA_CHECK(cudaMemcpyAsync(raw_images.data_ptr(), slot.pixels.data(), image_bytes, cudaMemcpyHostToDevice, stream));
      if (label_bytes > 0)
        CUDA_CHECK(cudaMemcpyAsync(labels.data_ptr(), slot.labels.data(), label_bytes, cudaMemcpyHostToDevice, stream));
      if (!slot.copied) CUDA_CHECK(cudaEventCreateWithFlags(&slot.copied, cudaEventDisableTiming));
      CUDA_CHECK(cudaEventRecord(slot.copied, stream));
      slot.copy_pending = true;
    } else {
      std::memcpy(raw_images.data_ptr(), slot.pixels.data(), image_bytes);
      if (label_bytes > 0) std::memcpy(labels.data_ptr(), slot.labels.data(), label_bytes);
    }
    // x / 127.5 - 1 in float32, the official normalisation to the bit.
    Tensor images = add(div(cast(raw_images, DType::Float32), Tensor::scalar(127.5, DType::Float32, device)), -1.0);
    return {images, labels};
  }
};

DataLoader::DataLoader(const ImageDataset& dataset, int64_t batch, uint64_t seed, int workers, int prefetch) {
  SG_CHECK(batch > 0, "loader: batch must be positive, got ", batch);
  SG_CHECK(workers > 0 && prefetch > 0, "loader: workers and prefetch must be positive, got ", workers, " and ",
           prefetch);
  impl_ = std::make_unique<Impl>(dataset, batch, seed, workers, prefetch);
  impl_->start();
}

DataLoader::~DataLoader() {
  impl_->stop();
  for (Slot& slot : impl_->slots)
    if (slot.copied) {
      // The staging memory must outlive the copies reading it; errors cannot be thrown here.
      if (slot.copy_pending) cudaEventSynchronize(slot.copied);
      cudaEventDestroy(slot.copied);
    }
}

int64_t DataLoader::batch_size() const { return impl_->batch; }

LoaderBatch DataLoader::next(Device device) {
  NvtxRange range("data");
  Impl& m = *impl_;
  Slot* slot = nullptr;
  {
    std::unique_lock<std::mutex> lock(m.mutex);
    m.schedule();
    slot = &m.slots[size_t(m.taken % int64_t(m.slots.size()))];
    m.ready_changed.wait(lock, [&] { return slot->state == Slot::State::Ready; });
  }
  // A Ready slot belongs to the consumer: workers only take Queued ones.
  std::string error = std::move(slot->error);
  LoaderBatch out;
  try {
    if (error.empty()) out = m.convert(*slot, device);
  } catch (const std::exception& e) {
    error = e.what();
  }
  {
    std::lock_guard<std::mutex> lock(m.mutex);
    slot->state = Slot::State::Free;
    ++m.taken;
    m.schedule();
  }
  SG_CHECK(error.empty(), "loader: ", error);
  return out;
}

Tensor DataLoader::random_labels(int64_t n, Device device, RandomGenerator& gen) {
  const ImageDataset& d = impl_->dataset;
  int64_t dim = d.label_dim();
  Tensor labels = Tensor::empty({n, dim}, DType::Float32, device);
  if (n * dim == 0) return labels;
  std::vector<double> u = rand({n}, gen, DType::Float64).to_vector();
  std::vector<float> host(size_t(n * dim));
  for (int64_t i = 0; i < n; ++i) {
    std::vector<float> l = d.label(std::min(int64_t(u[size_t(i)] * double(d.size())), d.size() - 1));
    std::copy(l.begin(), l.end(), host.begin() + i * dim);
  }
  if (device == Device::CUDA)
    impl_->label_uploads.upload(labels.data_ptr(), host.data(), host.size() * sizeof(float));
  else
    std::copy(host.begin(), host.end(), labels.data<float>());
  return labels;
}

LoaderState DataLoader::state() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return {impl_->sampler.seed(), impl_->taken * impl_->batch};
}

void DataLoader::set_state(const LoaderState& state) {
  Impl& m = *impl_;
  SG_CHECK(state.position >= 0 && state.position % m.batch == 0, "loader: saved position ", state.position,
           " is not a multiple of the batch size ", m.batch);
  m.stop();
  for (Slot& slot : m.slots) slot.state = Slot::State::Free;
  if (state.seed != m.sampler.seed()) m.sampler = InfiniteSampler(m.dataset.size(), state.seed);
  m.sampler.seek(state.position);
  m.taken = m.scheduled = state.position / m.batch;
  m.start();
}

}  // namespace sg
