// CPU reference loops for elementwise ops: one pass over the output, inputs read through
// broadcast-aware strided layouts (contiguous same-shape inputs skip the index arithmetic).
#include "ops/elementwise/elementwise_math.h"

namespace sg {

namespace {

template <class T, class F>
void for_each_output(const Tensor& out, const std::vector<const Tensor*>& inputs, const char* name, F f) {
  int64_t n = out.numel();
  T* o = out.data<T>();
  bool simple = true;
  for (const Tensor* in : inputs) simple = simple && in->is_contiguous() && in->shape() == out.shape();
  std::vector<const T*> bases;
  std::vector<StridedLayout> layouts;
  for (const Tensor* in : inputs) {
    bases.push_back(simple ? in->data<T>() : static_cast<const T*>(in->storage()->data()));
    if (!simple) layouts.push_back(make_layout(*in, out.shape(), name));
  }
  T values[3];
  for (int64_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < inputs.size(); ++k) values[k] = bases[k][simple ? i : layouts[k].offset_of(i)];
    o[i] = f(values);
  }
}

}  // namespace

void unary_cpu(UnaryOp op, const Tensor& out, const Tensor& x, double a, double b) {
  SG_DISPATCH_FLOAT_CPU(out.dtype(), "unary", [&] {
    for_each_output<scalar_t>(out, {&x}, "unary", [&](const scalar_t* v) {
      return apply_unary<scalar_t>(op, v[0], scalar_t(a), scalar_t(b));
    });
  });
}

void binary_cpu(BinaryOp op, const Tensor& out, const Tensor& x, const Tensor& y) {
  SG_DISPATCH_FLOAT_CPU(out.dtype(), "binary", [&] {
    for_each_output<scalar_t>(out, {&x, &y}, "binary",
                              [&](const scalar_t* v) { return apply_binary<scalar_t>(op, v[0], v[1]); });
  });
}

void ternary_cpu(TernaryOp op, const Tensor& out, const Tensor& x, const Tensor& y, const Tensor& z) {
  SG_DISPATCH_FLOAT_CPU(out.dtype(), "ternary", [&] {
    for_each_output<scalar_t>(out, {&x, &y, &z}, "ternary",
                              [&](const scalar_t* v) { return apply_ternary<scalar_t>(op, v[0], v[1], v[2]); });
  });
}

}  // namespace sg
