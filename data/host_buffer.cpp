#include "data/host_buffer.h"

#include <cstdlib>
#include <utility>

#include "engine/cuda_check.h"
#include "engine/device.h"

namespace sg {

HostBuffer::HostBuffer(size_t bytes) : size_(bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  if (cuda_available()) {
    void* p = nullptr;
    CUDA_CHECK(cudaHostAlloc(&p, rounded, cudaHostAllocDefault));
    data_ = static_cast<uint8_t*>(p);
    pinned_ = true;
  } else {
    data_ = static_cast<uint8_t*>(std::aligned_alloc(64, rounded));
    SG_CHECK(data_ != nullptr, "HostBuffer: cannot allocate ", bytes, " bytes");
  }
}

HostBuffer::~HostBuffer() { release(); }

HostBuffer::HostBuffer(HostBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)), pinned_(other.pinned_) {}

HostBuffer& HostBuffer::operator=(HostBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    pinned_ = other.pinned_;
  }
  return *this;
}

void HostBuffer::release() noexcept {
  if (!data_) return;
  if (pinned_)
    cudaFreeHost(data_);  // a destructor cannot throw; a failure here leaks at worst
  else
    std::free(data_);
  data_ = nullptr;
}

}  // namespace sg
