#include "engine/device.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "engine/cuda_check.h"

namespace sg {

const char* device_name(Device device) { return device == Device::CPU ? "cpu" : "cuda"; }

namespace {

struct CudaState {
  bool available = false;
  std::string reason;
};

const CudaState& cuda_state() {
  static CudaState state = [] {
    CudaState s;
    const char* forced = std::getenv("SG_DEVICE");
    if (forced && std::string(forced) == "cpu") {
      s.reason = "SG_DEVICE=cpu";
      return s;
    }
    int count = 0;
    cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      cudaGetLastError();  // clear the sticky error so later queries start clean
      s.reason = cudaGetErrorString(status);
    } else if (count == 0) {
      s.reason = "no CUDA device found";
    } else {
      s.available = true;
    }
    return s;
  }();
  return state;
}

}  // namespace

bool cuda_available() { return cuda_state().available; }
Device default_device() { return cuda_available() ? Device::CUDA : Device::CPU; }
std::string cuda_unavailable_reason() { return "no CUDA device: " + cuda_state().reason; }

bool cuda_sync_debug() {
  static bool sync = [] {
    const char* value = std::getenv("ENGINE_CUDA_SYNC");
    return value && std::string(value) == "1";
  }();
  return sync;
}

cudaStream_t current_stream() {
  static cudaStream_t stream = [] {
    SG_CHECK(cuda_available(), "CUDA requested but ", cuda_unavailable_reason());
    cudaStream_t s;
    CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    return s;
  }();
  return stream;
}

cublasContext* cublas_handle() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h;
    CUBLAS_CHECK(cublasCreate(&h));
    CUBLAS_CHECK(cublasSetStream(h, current_stream()));
    // float32 GEMMs stay in full precision (no TF32), as the official trainer defaults to.
    CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
    return h;
  }();
  return handle;
}

cudnnContext* cudnn_handle() {
  static cudnnHandle_t handle = [] {
    cudnnHandle_t h;
    CUDNN_CHECK(cudnnCreate(&h));
    CUDNN_CHECK(cudnnSetStream(h, current_stream()));
    return h;
  }();
  return handle;
}

void synchronize() {
  if (cuda_available()) CUDA_CHECK(cudaStreamSynchronize(current_stream()));
}

namespace {

struct UploadRing {
  struct Slot {
    void* pinned = nullptr;
    cudaEvent_t done = nullptr;
  };
  std::array<Slot, 32> slots;
  size_t next = 0;
  std::mutex mutex;

  UploadRing() {
    for (Slot& slot : slots) {
      CUDA_CHECK(cudaHostAlloc(&slot.pinned, kAsyncUploadBytes, cudaHostAllocDefault));
      CUDA_CHECK(cudaEventCreateWithFlags(&slot.done, cudaEventDisableTiming));
      CUDA_CHECK(cudaEventRecord(slot.done, current_stream()));
    }
  }
};

}  // namespace

void copy_host_to_device(void* dst, const void* src, size_t bytes) {
  if (bytes > kAsyncUploadBytes) {
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, current_stream()));
    CUDA_CHECK(cudaStreamSynchronize(current_stream()));  // src must outlive the transfer
    return;
  }
  static UploadRing ring;  // process lifetime: pinned buffers are given back at exit
  std::lock_guard<std::mutex> lock(ring.mutex);
  UploadRing::Slot& slot = ring.slots[ring.next];
  ring.next = (ring.next + 1) % ring.slots.size();
  CUDA_CHECK(cudaEventSynchronize(slot.done));  // normally long since complete
  std::memcpy(slot.pinned, src, bytes);
  CUDA_CHECK(cudaMemcpyAsync(dst, slot.pinned, bytes, cudaMemcpyHostToDevice, current_stream()));
  CUDA_CHECK(cudaEventRecord(slot.done, current_stream()));
}

DeviceProperties device_properties() {
  DeviceProperties p;
  if (!cuda_available()) return p;
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop;
  CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  int memory_clock_khz = 0, bus_width_bits = 0, clock_khz = 0;
  CUDA_CHECK(cudaDeviceGetAttribute(&memory_clock_khz, cudaDevAttrMemoryClockRate, device));
  CUDA_CHECK(cudaDeviceGetAttribute(&bus_width_bits, cudaDevAttrGlobalMemoryBusWidth, device));
  CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device));
  p.name = prop.name;
  p.sm_count = prop.multiProcessorCount;
  p.total_memory = prop.totalGlobalMem;
  p.memory_bandwidth_gbs = 2.0 * memory_clock_khz * 1e3 * (bus_width_bits / 8) / 1e9;  // DDR
  // 128 FP32 lanes per SM on sm_80/sm_90 parts, 2 FLOP per FMA.
  p.peak_fp32_tflops = 2.0 * 128 * p.sm_count * clock_khz * 1e3 / 1e12;
  return p;
}

const char* cublas_status_string(cublasStatus_t status) { return cublasGetStatusString(status); }

}  // namespace sg

#include "engine/nvtx.h"
namespace sg {
bool nvtx_enabled() {
  static bool enabled = [] {
    const char* value = std::getenv("SG_NVTX");
    return !(value && std::string(value) == "0");
  }();
  return enabled;
}
}  // namespace sg
