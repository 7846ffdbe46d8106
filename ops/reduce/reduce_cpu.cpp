// CPU reference reductions through the same index maps as the CUDA kernels, accumulating in the
// compute type.
#include <algorithm>

#include "ops/reduce/reduce.h"

namespace sg {

void reduce_cpu(ReduceOp op, const Tensor& out, const Tensor& x, const ReduceLayout& layout) {
  SG_DISPATCH_FLOAT_CPU(x.dtype(), "reduce", [&] {
    const scalar_t* in = x.data<scalar_t>();
    scalar_t* o = out.data<scalar_t>();
    for (int64_t r = 0; r < layout.rows; ++r) {
      const scalar_t* row = in + map_offset(layout.kept, uint32_t(r));
      scalar_t acc = op == ReduceOp::Sum ? scalar_t(0) : row[0];
      for (int64_t c = 0; c < layout.cols; ++c) {
        scalar_t v = row[map_offset(layout.reduced, uint32_t(c))];
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
