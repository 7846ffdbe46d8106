// CPU reference kernels of index_select and index_add.
#include "ops/shape/shape.h"

namespace sg {

void index_select_cpu(const Tensor& out, const Tensor& x, const Tensor& index, IndexParams p) {
  SG_DISPATCH_FLOAT_CPU(x.dtype(), "index_select", [&] {
    const scalar_t* in = x.data<scalar_t>();
    scalar_t* o = out.data<scalar_t>();
    const int64_t* idx = index.data<int64_t>();
    for (int64_t a = 0; a < p.outer; ++a)
      for (int64_t k = 0; k < p.index_size; ++k)
        for (int64_t i = 0; i < p.inner; ++i)
          o[(a * p.index_size + k) * p.inner + i] = in[(a * p.source_size + idx[k]) * p.inner + i];
  });
}

void index_add_cpu(const Tensor& out, const Tensor& src, const Tensor& index, IndexParams p) {
  SG_DISPATCH_FLOAT_CPU(src.dtype(), "index_add", [&] {
    const scalar_t* in = src.data<scalar_t>();
    scalar_t* o = out.data<scalar_t>();
    const int64_t* idx = index.data<int64_t>();
    for (int64_t a = 0; a < p.outer; ++a)
      for (int64_t k = 0; k < p.index_size; ++k)
        for (int64_t i = 0; i < p.inner; ++i)
          o[(a * p.source_size + idx[k]) * p.inner + i] += in[(a * p.index_size + k) * p.inner + i];
  });
}

}  // namespace sg
