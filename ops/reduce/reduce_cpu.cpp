// CPU reference reductions over the rows of a contiguous matrix, accumulating in the compute type.
#include <algorithm>

#include "ops/reduce/reduce.h"

namespace sg {

void reduce_rows_cpu(ReduceOp op, const Tensor& out, const Tensor& x, int64_t rows, int64_t cols) {
  SG_DISPATCH_FLOAT_CPU(x.dtype(), "reduce", [&] {
    const scalar_t* in = x.data<scalar_t>();
    scalar_t* o = out.data<scalar_t>();
    for (int64_t r = 0; r < rows; ++r) {
      const scalar_t* row = in + r * cols;
      scalar_t acc = op == ReduceOp::Sum ? scalar_t(0) : row[0];
      for (int64_t c = 0; c < cols; ++c) {
        scalar_t v = row[c];
        if (op == ReduceOp::Sum)
          acc += v;
        else if (v != v || (op == ReduceOp::Max ? v > acc : v < acc))
          acc = v;
        if (acc != acc && op != ReduceOp::Sum) break;  // NaN wins, as in torch
      }
      o[r] = acc;
    }
  });
}

}  // namespace sg
