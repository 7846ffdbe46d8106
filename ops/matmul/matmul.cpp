// Differentiable matmul: checks, operand layout (transposed views need no copy) and backward
// dA = dC B^T, dB = A^T dC, summed over a broadcast batch.
#include <algorithm>
#include "ops/matmul/matmul.h"

#include "autograd/autograd.h"
#include "ops/elementwise/elementwise.h"
#include "ops/reduce/reduce.h"
#include "ops/shape/shape.h"

namespace sg {

namespace {

// x is [B, R, C] (B may be 1 and then broadcast with stride 0). Returns how a BLAS reads it,
// copying only when neither x nor its transpose is row-major within each matrix.
GemmOperand gemm_operand(Tensor& x, int64_t batch) {
  int64_t rows = x.shape()[1], cols = x.shape()[2];
  int64_t rs = x.strides()[1], cs = x.strides()[2];
  bool row_major = (cs == 1 || cols == 1) && (rs == cols || rows == 1);
  bool col_major = !row_major && (rs == 1 || rows == 1) && (cs == rows || cols == 1);
  if (!row_major && !col_major) {
    x = raw::contiguous(x);
    row_major = true;
  }
  int64_t batch_stride = x.shape()[0] == 1 && batch > 1 ? 0 : x.strides()[0];
  if (row_major) return {x.data_ptr(), false, std::max<int64_t>(cols, 1), batch_stride};
  return {x.data_ptr(), true, std::max<int64_t>(rows, 1), batch_stride};
}

Tensor matmul_raw(const Tensor& a, const Tensor& b) {
  SG_CHECK(a.dtype() == b.dtype() && a.device() == b.device(), "matmul: operands differ, ", a.describe(), " and ",
           b.describe());
  SG_CHECK(is_floating(a.dtype()), "matmul: expected floating tensors, got ", a.describe());
  SG_CHECK((a.dim() == 2 || a.dim() == 3) && a.dim() == b.dim(), "matmul: expected two 2-D or two 3-D tensors, got ",
           a.describe(), " and ", b.describe());
  bool batched = a.dim() == 3;
  Tensor a3 = batched ? a : raw::unsqueeze(a, 0), b3 = batched ? b : raw::unsqueeze(b, 0);
  // A batch of 1 broadcasts against any batch, 0 included.
  int64_t batch = a3.shape()[0] == 1 ? b3.shape()[0] : a3.shape()[0];
  SG_CHECK(a3.shape()[2] == b3.shape()[1], "matmul: inner dimensions differ, expected ", shape_str(a.shape()),
           " x [", a3.shape()[2], ", n], got ", shape_str(b.shape()));
  SG_CHECK(a3.shape()[0] == b3.shape()[0] || a3.shape()[0] == 1 || b3.shape()[0] == 1,
           "matmul: batch sizes differ, ", shape_str(a.shape()), " and ", shape_str(b.shape()));
  GemmShape s{batch, a3.shape()[1], b3.shape()[2], a3.shape()[2]};
  Shape out_shape = batched ? Shape{s.batch, s.m, s.n} : Shape{s.m, s.n};
  if (a.device() == Device::CPU && is_half(a.dtype()))
    return raw::to(matmul_raw(raw::to(a, DType::Float32, Device::CPU), raw::to(b, DType::Float32, Device::CPU)),
                   a.dtype(), Device::CPU);
  Tensor out = Tensor::empty(out_shape, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  if (s.k == 0) {
    out.fill_(0);
    return out;
  }
  GemmOperand ga = gemm_operand(a3, batch), gb = gemm_operand(b3, batch);
  a.is_cuda() ? gemm_cuda(out, ga, gb, s) : gemm_cpu(out, ga, gb, s);
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  Tensor y = matmul_raw(a, b);
  record("matmul", {a, b}, {y}, [a, b](const std::vector<Tensor>& g, const std::vector<bool>& need) {
    Tensor da, db;
    if (need[0]) da = sum_to(matmul(g[0], transpose(b, -1, -2)), a.shape());
    if (need[1]) db = sum_to(matmul(transpose(a, -1, -2), g[0]), b.shape());
    return std::vector<Tensor>{da, db};
  });
  return y;
}

Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b) { return add(matmul(a, b), bias); }

}  // namespace sg
