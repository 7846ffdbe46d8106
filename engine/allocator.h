// Memory for tensor storage, through one caching allocator per device: sizes are rounded to a
// size class and freed blocks are kept in a per-class free list and handed out again, so the
// training loop stops calling cudaMalloc (or malloc, whose large blocks cost page faults) after
// its first iteration. All CUDA work runs on one stream, so a freed block may be reused at once.
// CPU blocks are 64-byte aligned.
#pragma once
#include <cstddef>

#include "engine/device.h"

namespace sg {

struct AllocatorStats {
  size_t allocated_bytes = 0;       // in live tensors (rounded sizes)
  size_t reserved_bytes = 0;        // obtained from cudaMalloc, live or cached
  size_t peak_allocated_bytes = 0;  // since the last reset_peak
  size_t cuda_malloc_calls = 0;
  size_t cache_hits = 0;
};

void* allocate(size_t nbytes, Device device);
void deallocate(void* ptr, size_t nbytes, Device device);

// Size class of a CUDA request: 512-byte steps up to 1 MiB, then 2 MiB steps.
size_t cuda_size_class(size_t nbytes);

AllocatorStats cuda_allocator_stats();
void cuda_allocator_reset_peak();
// Returns every cached (free) block to the driver.
void cuda_allocator_empty_cache();

}  // namespace sg
