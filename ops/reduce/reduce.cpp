// Differentiable reductions. The kernels read the input in place through two index maps, one
// over the kept dims and one over the reduced dims (a [N, C, H, W] bias gradient reduces
// [N, H*W] runs per channel without first copying it to [C, N*H*W]); backward rules expand the
// gradient back with views.
#include "ops/reduce/reduce.h"

#include <algorithm>

#include "autograd/autograd.h"
#include "ops/elementwise/elementwise.h"
#include "ops/shape/shape.h"

namespace sg {

namespace {

struct ReducePlan {
  std::vector<bool> reduced;  // per input dim
  Shape kept_shape;           // output shape with keepdim
  Shape out_shape;            // output shape as requested
  int64_t rows = 1, cols = 1;
};

ReducePlan plan_reduction(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim, const char* name) {
  ReducePlan plan;
  plan.reduced.assign(x.dim(), dims.empty());
  for (int64_t d : dims) {
    // A 0-d tensor reduces to itself over dim 0 or -1 (as torch); it has no other dim.
    if (x.dim() == 0) {
      SG_CHECK(d == 0 || d == -1, name, ": dim ", d, " out of range for a tensor of 0 dims");
      continue;
    }
    int w = wrap_dim(d, x.dim(), name);
    SG_CHECK(!plan.reduced[w] || dims.empty(), name, ": dim ", d, " listed twice");
    plan.reduced[w] = true;
  }
  for (int d = 0; d < x.dim(); ++d) {
    if (plan.reduced[d]) {
      plan.cols *= x.shape()[d];
      plan.kept_shape.push_back(1);
      if (keepdim) plan.out_shape.push_back(1);
    } else {
      plan.rows *= x.shape()[d];
      plan.kept_shape.push_back(x.shape()[d]);
      plan.out_shape.push_back(x.shape()[d]);
    }
  }
  return plan;
}

// The kernels' maps of x's kept and reduced dims; false when an offset needs more than 31 bits.
bool make_reduce_layout(const Tensor& x, const ReducePlan& plan, ReduceLayout& layout) {
  StridedLayout kept, reduced;
  for (int d = 0; d < x.dim(); ++d) {
    StridedLayout& l = plan.reduced[d] ? reduced : kept;
    l.sizes[l.ndim] = x.shape()[d];
    l.strides[l.ndim] = x.strides()[d];
    ++l.ndim;
  }
  coalesce_layouts(&kept, 1);
  coalesce_layouts(&reduced, 1);
  if (!fits_index_map32(&kept, 1) || !fits_index_map32(&reduced, 1)) return false;
  layout.kept = make_index_map32<1>(&kept);
  layout.reduced = make_index_map32<1>(&reduced);
  layout.rows = plan.rows;
  layout.cols = plan.cols;
  layout.kept_unit_stride = kept.ndim > 0 && kept.strides[kept.ndim - 1] == 1;
  return true;
}

Tensor reduce_raw(ReduceOp op, const Tensor& x, const ReducePlan& plan, const char* name) {
  SG_CHECK(is_floating(x.dtype()), name, ": expected a floating tensor, got ", x.describe());
  if (x.device() == Device::CPU && is_half(x.dtype()))
    return raw::to(reduce_raw(op, raw::to(x, DType::Float32, Device::CPU), plan, name), x.dtype(), Device::CPU);
  Tensor out = Tensor::empty(plan.out_shape, x.dtype(), x.device());
  if (plan.rows == 0) return out;
  if (plan.cols == 0) {
    SG_CHECK(op == ReduceOp::Sum, name, ": cannot reduce an empty dim of ", x.describe());
    out.fill_(0);
    return out;
  }
  SG_CHECK(x.numel() < (int64_t(1) << 31), name, ": tensors of 2^31 elements or more are not supported, got ",
           x.describe());
  ReduceLayout layout;
  Tensor source = x;
  if (!make_reduce_layout(source, plan, layout)) {  // a view spread wider than 2^31 elements: pack it first
    source = raw::contiguous(x);
    SG_CHECK(make_reduce_layout(source, plan, layout), name, ": cannot index ", x.describe());
  }
  if (x.is_cuda())
    reduce_cuda(op, out, source, layout);
  else
    reduce_cpu(op, out, source, layout);
  return out;
}

// Gradient of a reduction with output gradient g: reshape to keepdim form and broadcast.
Tensor expand_back(const Tensor& g, const ReducePlan& plan, const Shape& input_shape) {
  return expand(reshape(g, plan.kept_shape), input_shape);
}

Tensor extremum(ReduceOp op, const char* name, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  ReducePlan plan = plan_reduction(x, dims, keepdim, name);
  Tensor y = reduce_raw(op, x, plan, name);
  record(name, {x}, {y}, [x, plan, y_value = y.detach()](const std::vector<Tensor>& g, const std::vector<bool>&) {
    Tensor hit = eq(x.detach(), expand_back(y_value, plan, x.shape()));
    // Tie counts pass float16's range (65504) on long rows: count and divide in float32.
    if (is_half(hit.dtype())) hit = raw::to(hit, DType::Float32, hit.device());
    Tensor count = expand_back(reduce_raw(ReduceOp::Sum, hit, plan, "amax_backward"), plan, x.shape());
    Tensor share = raw::to(div(hit, count), x.dtype(), x.device());
    return std::vector<Tensor>{mul(expand_back(g[0], plan, x.shape()), share)};
  });
  return y;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  ReducePlan plan = plan_reduction(x, dims, keepdim, "sum");
  Tensor y = reduce_raw(ReduceOp::Sum, x, plan, "sum");
  record("sum", {x}, {y}, [plan, shape = x.shape()](const std::vector<Tensor>& g, const std::vector<bool>&) {
    return std::vector<Tensor>{expand_back(g[0], plan, shape)};
  });
  return y;
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  ReducePlan plan = plan_reduction(x, dims, keepdim, "mean");
  SG_CHECK(plan.cols > 0, "mean: reducing an empty dim of ", x.describe());
  return mul(sum(x, dims, keepdim), 1.0 / double(plan.cols));
}

Tensor amax(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return extremum(ReduceOp::Max, "amax", x, dims, keepdim);
}

Tensor amin(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return extremum(ReduceOp::Min, "amin", x, dims, keepdim);
}

Tensor norm(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  ReducePlan plan = plan_reduction(x, dims, keepdim, "norm");
  Tensor y;
  {
    NoGradGuard no_grad;
    y = sqrt(sum(square(x), dims, keepdim));
  }
  record("norm", {x}, {y}, [x, dims, plan](const std::vector<Tensor>& g, const std::vector<bool>&) {
    // d|x|/dx = x / |x|, and 0 where |x| = 0 (sqrt's slope is infinite there: 0 * inf = NaN). The
    // norm is recomputed, not captured, so that create_graph differentiates through it.
    Tensor n = expand_back(norm(x, dims, false), plan, x.shape());
    Tensor safe = where(eq(n, Tensor::zeros({}, n.dtype(), n.device())), Tensor::ones({}, n.dtype(), n.device()), n);
    return std::vector<Tensor>{mul(expand_back(g[0], plan, x.shape()), div(x, safe))};
  });
  return y;
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  SG_CHECK(int(shape.size()) <= g.dim(), "sum_to: cannot reduce ", shape_str(g.shape()), " to ", shape_str(shape));
  int lead = g.dim() - int(shape.size());
  std::vector<int64_t> dims;
  for (int d = 0; d < g.dim(); ++d) {
    if (d >= lead)
      SG_CHECK(shape[d - lead] == g.shape()[d] || shape[d - lead] == 1, "sum_to: cannot reduce ",
               shape_str(g.shape()), " to ", shape_str(shape));
    if (d < lead || (shape[d - lead] == 1 && g.shape()[d] != 1)) dims.push_back(d);
  }
  Tensor reduced = dims.empty() ? g : sum(g, dims, true);
  return reshape(reduced, shape);
}

}  // namespace sg
