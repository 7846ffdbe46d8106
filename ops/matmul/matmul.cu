// CUDA GEMM through cublasGemmStridedBatchedEx. cuBLAS is column-major, so the row-major
// product C = A B is issued as C^T = B^T A^T: operands swap and m/n swap.
#include "engine/cuda_check.h"
#include "engine/nvtx.h"
#include "ops/matmul/matmul.h"

namespace sg {

void gemm_cuda(const Tensor& out, const GemmOperand& a, const GemmOperand& b, GemmShape s) {
  NvtxRange range("matmul");
  cudaDataType_t type;
  cublasComputeType_t compute;
  switch (out.dtype()) {
    case DType::Float32: type = CUDA_R_32F; compute = CUBLAS_COMPUTE_32F; break;
    case DType::Float64: type = CUDA_R_64F; compute = CUBLAS_COMPUTE_64F; break;
    case DType::Float16: type = CUDA_R_16F; compute = CUBLAS_COMPUTE_32F; break;
    case DType::BFloat16: type = CUDA_R_16BF; compute = CUBLAS_COMPUTE_32F; break;
    default: SG_FAIL("matmul: unsupported dtype ", dtype_name(out.dtype()));
  }
  double one64 = 1, zero64 = 0;
  float one32 = 1, zero32 = 0;
  const void* alpha = compute == CUBLAS_COMPUTE_64F ? static_cast<const void*>(&one64) : &one32;
  const void* beta = compute == CUBLAS_COMPUTE_64F ? static_cast<const void*>(&zero64) : &zero32;
  CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      cublas_handle(), b.transposed ? CUBLAS_OP_T : CUBLAS_OP_N, a.transposed ? CUBLAS_OP_T : CUBLAS_OP_N,
      int(s.n), int(s.m), int(s.k), alpha, b.data, type, int(b.ld), b.batch_stride, a.data, type, int(a.ld),
      a.batch_stride, beta, out.data_ptr(), type, int(s.n), s.m * s.n, int(s.batch), compute, CUBLAS_GEMM_DEFAULT));
}

}  // namespace sg
