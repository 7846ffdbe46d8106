// CPU GEMM through OpenBLAS (row-major cblas), one call per batch entry.
#include <cblas.h>

#include "ops/matmul/matmul.h"

namespace sg {

void gemm_cpu(const Tensor& out, const GemmOperand& a, const GemmOperand& b, GemmShape s) {
  CBLAS_TRANSPOSE ta = a.transposed ? CblasTrans : CblasNoTrans;
  CBLAS_TRANSPOSE tb = b.transposed ? CblasTrans : CblasNoTrans;
  for (int64_t i = 0; i < s.batch; ++i) {
    if (out.dtype() == DType::Float64) {
      cblas_dgemm(CblasRowMajor, ta, tb, s.m, s.n, s.k, 1.0, static_cast<const double*>(a.data) + i * a.batch_stride,
                  a.ld, static_cast<const double*>(b.data) + i * b.batch_stride, b.ld, 0.0,
                  out.data<double>() + i * s.m * s.n, s.n);
    } else {
      SG_CHECK(out.dtype() == DType::Float32, "matmul: expected float32 or float64 on CPU, got ", dtype_name(out.dtype()));
      cblas_sgemm(CblasRowMajor, ta, tb, s.m, s.n, s.k, 1.0f, static_cast<const float*>(a.data) + i * a.batch_stride,
                  a.ld, static_cast<const float*>(b.data) + i * b.batch_stride, b.ld, 0.0f,
                  out.data<float>() + i * s.m * s.n, s.n);
    }
  }
}

}  // namespace sg
