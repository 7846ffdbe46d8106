// Matrix products: matmul of [M, K] x [K, N] or batched [B, M, K] x [B, K, N] (a batch of 1 on
// either side broadcasts), and addmm = bias + a @ b. cuBLAS on CUDA (float32 without TF32, as
// the official trainer), OpenBLAS on CPU. Transposed views are passed to the BLAS as transposes,
// without a copy.
#pragma once
#include "engine/tensor.h"

namespace sg {

Tensor matmul(const Tensor& a, const Tensor& b);
Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b);

// One operand as a BLAS sees it: a batch of row-major matrices, possibly transposed.
struct GemmOperand {
  const void* data;
  bool transposed;  // the stored matrix is the transpose of the logical one
  int64_t ld;       // leading dimension of the stored row-major matrix
  int64_t batch_stride;
};
struct GemmShape {
  int64_t batch, m, n, k;
};
// out [batch, m, n] contiguous = a [batch, m, k] @ b [batch, k, n].
void gemm_cpu(const Tensor& out, const GemmOperand& a, const GemmOperand& b, GemmShape s);
void gemm_cuda(const Tensor& out, const GemmOperand& a, const GemmOperand& b, GemmShape s);

}  // namespace sg
