#include "engine/allocator.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "engine/cuda_check.h"

namespace sg {

namespace {

struct CachingAllocator {
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> free_blocks;  // size class -> cached blocks
  AllocatorStats stats;

  void release_cache_locked() {
    for (auto& [size, blocks] : free_blocks) {
      for (void* block : blocks) {
        CUDA_CHECK(cudaFree(block));
        stats.reserved_bytes -= size;
      }
    }
    free_blocks.clear();
  }
};

CachingAllocator& cuda_allocator() {
  static CachingAllocator* allocator = new CachingAllocator();  // never destroyed: see below
  // Tensors held in static objects may be freed after main returns; a leaked allocator keeps
  // their deallocation valid instead of touching a destroyed map.
  return *allocator;
}

std::string format_bytes(size_t bytes) { return std::to_string(bytes / (1 << 20)) + " MiB"; }

void* cuda_allocate(size_t nbytes) {
  CachingAllocator& a = cuda_allocator();
  size_t size = cuda_size_class(nbytes);
  std::lock_guard<std::mutex> lock(a.mutex);
  void* ptr = nullptr;
  auto it = a.free_blocks.find(size);
  if (it != a.free_blocks.end() && !it->second.empty()) {
    ptr = it->second.back();
    it->second.pop_back();
    ++a.stats.cache_hits;
  } else {
    cudaError_t status = cudaMalloc(&ptr, size);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      CUDA_CHECK(cudaStreamSynchronize(current_stream()));
      a.release_cache_locked();
      status = cudaMalloc(&ptr, size);
    }
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      SG_FAIL("CUDA out of memory: tried to allocate ", format_bytes(size), " with ",
              format_bytes(a.stats.allocated_bytes), " in use and ",
              format_bytes(a.stats.reserved_bytes), " reserved; lower the per-GPU batch (--batch-gpu)");
    }
    CUDA_CHECK(status);
    ++a.stats.cuda_malloc_calls;
    a.stats.reserved_bytes += size;
  }
  a.stats.allocated_bytes += size;
  if (a.stats.allocated_bytes > a.stats.peak_allocated_bytes)
    a.stats.peak_allocated_bytes = a.stats.allocated_bytes;
  return ptr;
}

void cuda_deallocate(void* ptr, size_t nbytes) {
  CachingAllocator& a = cuda_allocator();
  size_t size = cuda_size_class(nbytes);
  std::lock_guard<std::mutex> lock(a.mutex);
  a.free_blocks[size].push_back(ptr);
  a.stats.allocated_bytes -= size;
}

}  // namespace

size_t cuda_size_class(size_t nbytes) {
  const size_t small_step = 512, large_step = size_t(2) << 20, small_limit = size_t(1) << 20;
  if (nbytes == 0) nbytes = 1;
  if (nbytes <= small_limit) return (nbytes + small_step - 1) / small_step * small_step;
  return (nbytes + large_step - 1) / large_step * large_step;
}

void* allocate(size_t nbytes, Device device) {
  if (device == Device::CUDA) return cuda_allocate(nbytes);
  size_t rounded = (nbytes + 63) / 64 * 64;
  void* ptr = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  SG_CHECK(ptr != nullptr, "CPU out of memory: tried to allocate ", nbytes, " bytes");
  return ptr;
}

void deallocate(void* ptr, size_t nbytes, Device device) {
  if (!ptr) return;
  if (device == Device::CUDA)
    cuda_deallocate(ptr, nbytes);
  else
    std::free(ptr);
}

AllocatorStats cuda_allocator_stats() {
  CachingAllocator& a = cuda_allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  return a.stats;
}

void cuda_allocator_reset_peak() {
  CachingAllocator& a = cuda_allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  a.stats.peak_allocated_bytes = a.stats.allocated_bytes;
}

void cuda_allocator_empty_cache() {
  CachingAllocator& a = cuda_allocator();
  if (cuda_available()) CUDA_CHECK(cudaStreamSynchronize(current_stream()));
  std::lock_guard<std::mutex> lock(a.mutex);
  a.release_cache_locked();
}

}  // namespace sg
