// Host staging memory for host-to-device copies: page-locked (cudaHostAlloc) when a CUDA device is
// available, so cudaMemcpyAsync from it is truly asynchronous; plain aligned memory otherwise.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sg {

class HostBuffer {
 public:
  HostBuffer() = default;
  explicit HostBuffer(size_t bytes);
  ~HostBuffer();
  HostBuffer(HostBuffer&& other) noexcept;
  HostBuffer& operator=(HostBuffer&& other) noexcept;
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool pinned() const { return pinned_; }

 private:
  void release() noexcept;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool pinned_ = false;
};

}  // namespace sg
