// Devices and the CUDA context: one current stream on which every kernel, copy and library call
// is issued (so freed memory can be reused at once without events), the cuBLAS/cuDNN handles bound
// to it, and the debugging switch ENGINE_CUDA_SYNC=1 (synchronise after each launch).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include <string>

struct cublasContext;
struct cudnnContext;

namespace sg {

enum class Device : uint8_t { CPU, CUDA };

const char* device_name(Device device);

// True when a CUDA device can be used. Set SG_DEVICE=cpu to hide an existing GPU.
bool cuda_available();
// CUDA when available, else CPU: what apps and benchmarks run on by default.
Device default_device();
// "no CUDA device: <reason>" when none is available; used by skipped tests.
std::string cuda_unavailable_reason();

cudaStream_t current_stream();
cublasContext* cublas_handle();
cudnnContext* cudnn_handle();
void synchronize();
// Host-to-device copy on the current stream that does not wait for the GPU when it is small
// (up to kAsyncUploadBytes): the bytes are staged in a ring of pinned buffers, each reused only
// after the copy that last used it has run. Larger copies wait for their transfer to finish.
// `src` may be freed as soon as this returns.
constexpr size_t kAsyncUploadBytes = 64 << 10;
void copy_host_to_device(void* dst, const void* src, size_t bytes);

struct DeviceProperties {
  std::string name;
  int sm_count = 0;
  double memory_bandwidth_gbs = 0;  // from the memory clock and bus width
  double peak_fp32_tflops = 0;      // non-tensor-core FMA rate
  size_t total_memory = 0;
};
DeviceProperties device_properties();

}  // namespace sg
