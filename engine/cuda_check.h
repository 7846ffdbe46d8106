// Checks for CUDA runtime, cuBLAS and cuDNN calls. Each failure throws sg::Error naming the call,
// the library's error string and file:line. Include only from code that links the CUDA libraries.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "engine/error.h"

namespace sg {
const char* cublas_status_string(cublasStatus_t status);
}

#define CUDA_CHECK(call)                                                                      \
  do {                                                                                        \
    cudaError_t status_ = (call);                                                             \
    if (status_ != cudaSuccess)                                                               \
      SG_FAIL("CUDA error in ", #call, ": ", cudaGetErrorName(status_), " (",                 \
              cudaGetErrorString(status_), ")");                                              \
  } while (0)

#define CUBLAS_CHECK(call)                                                                    \
  do {                                                                                        \
    cublasStatus_t status_ = (call);                                                          \
    if (status_ != CUBLAS_STATUS_SUCCESS)                                                     \
      SG_FAIL("cuBLAS error in ", #call, ": ", ::sg::cublas_status_string(status_));          \
  } while (0)

#define CUDNN_CHECK(call)                                                                     \
  do {                                                                                        \
    cudnnStatus_t status_ = (call);                                                           \
    if (status_ != CUDNN_STATUS_SUCCESS)                                                      \
      SG_FAIL("cuDNN error in ", #call, ": ", cudnnGetErrorString(status_));                 \
  } while (0)

// After a kernel launch: reports launch errors at once and, with ENGINE_CUDA_SYNC=1, also
// synchronises so that an asynchronous fault is attributed to the launch that caused it.
#define CUDA_CHECK_LAUNCH(op_name)                                                            \
  do {                                                                                        \
    cudaError_t status_ = cudaGetLastError();                                                 \
    if (status_ == cudaSuccess && ::sg::cuda_sync_debug()) status_ = cudaDeviceSynchronize(); \
    if (status_ != cudaSuccess)                                                               \
      SG_FAIL(op_name, ": kernel launch failed: ", cudaGetErrorName(status_), " (",           \
              cudaGetErrorString(status_), ")");                                              \
  } while (0)

namespace sg {
bool cuda_sync_debug();
}
