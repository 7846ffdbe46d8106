#include "engine/allocator.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "engine/cuda_check.h"

namespace sg {

namespace {

// One cache per device: freed blocks wait in a per-size-class list and are handed out again.
struct CachingAllocator {
  Device device;
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> free_blocks;  // size class -> cached blocks
  AllocatorStats stats;

  explicit CachingAllocator(Device d) : device(d) {}

  void* system_allocate(size_t size) {
    if (device == Device::CPU) return std::aligned_alloc(64, size);
    void* ptr = nullptr;
    cudaError_t status = cudaMalloc(&ptr, size);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      return nullptr;
    }
    CUDA_CHECK(status);
    return ptr;
  }

  void system_free(void* ptr) {
    if (device == Device::CPU)
      std::free(ptr);
    else
      CUDA_CHECK(cudaFree(ptr));
  }

  void release_cache_locked() {
    for (auto& [size, blocks] : free_blocks) {
      for (void* block : blocks) {
        system_free(block);
        stats.reserved_bytes -= size;
      }
    }
    free_blocks.clear();
  }

  void* allocate(size_t nbytes) {
    size_t size = cuda_size_class(nbytes);
    std::lock_guard<std::mutex> lock(mutex);
    void* ptr = nullptr;
    auto it = free_blocks.find(size);
    if (it != free_blocks.end() && !it->second.empty()) {
      ptr = it->second.back();
      it->second.pop_back();
      ++stats.cache_hits;
    } else {
      ptr = system_allocate(size);
      if (!ptr) {  // out of memory: give the cache back and try once more
        if (device == Device::CUDA) CUDA_CHECK(cudaStreamSynchronize(current_stream()));
        release_cache_locked();
        ptr = system_allocate(size);
      }
      SG_CHECK(ptr != nullptr, device_name(device), " out of memory: tried to allocate ", size >> 20, " MiB with ",
               stats.allocated_bytes >> 20, " MiB in use and ", stats.reserved_bytes >> 20,
               " MiB reserved; lower the per-GPU batch (--batch-gpu)");
      ++stats.cuda_malloc_calls;
      stats.reserved_bytes += size;
    }
    stats.allocated_bytes += size;
    stats.peak_allocated_bytes = std::max(stats.peak_allocated_bytes, stats.allocated_bytes);
    return ptr;
  }

  void deallocate(void* ptr, size_t nbytes) {
    size_t size = cuda_size_class(nbytes);
    std::lock_guard<std::mutex> lock(mutex);
    free_blocks[size].push_back(ptr);
    stats.allocated_bytes -= size;
  }
};

CachingAllocator& allocator_for(Device device) {
  // Never destroyed: tensors held in static objects may be freed after main returns, and a
  // leaked allocator keeps their deallocation valid.
  static CachingAllocator* cpu = new CachingAllocator(Device::CPU);
  static CachingAllocator* cuda = new CachingAllocator(Device::CUDA);
  return device == Device::CPU ? *cpu : *cuda;
}

}  // namespace

size_t cuda_size_class(size_t nbytes) {
  const size_t small_step = 512, large_step = size_t(2) << 20, small_limit = size_t(1) << 20;
  if (nbytes == 0) nbytes = 1;
  if (nbytes <= small_limit) return (nbytes + small_step - 1) / small_step * small_step;
  return (nbytes + large_step - 1) / large_step * large_step;
}

void* allocate(size_t nbytes, Device device) { return allocator_for(device).allocate(nbytes); }

void deallocate(void* ptr, size_t nbytes, Device device) {
  if (ptr) allocator_for(device).deallocate(ptr, nbytes);
}

AllocatorStats cuda_allocator_stats() {
  CachingAllocator& a = allocator_for(Device::CUDA);
  std::lock_guard<std::mutex> lock(a.mutex);
  return a.stats;
}

void cuda_allocator_reset_peak() {
  CachingAllocator& a = allocator_for(Device::CUDA);
  std::lock_guard<std::mutex> lock(a.mutex);
  a.stats.peak_allocated_bytes = a.stats.allocated_bytes;
}

void cuda_allocator_empty_cache() {
  CachingAllocator& a = allocator_for(Device::CUDA);
  if (cuda_available()) CUDA_CHECK(cudaStreamSynchronize(current_stream()));
  std::lock_guard<std::mutex> lock(a.mutex);
  a.release_cache_locked();
}

}  // namespace sg
