// CPU reference loops for elementwise ops: one pass over the output, inputs read through
// broadcast-aware layouts, coalesced and mapped with the same 32-bit index arithmetic as the
// CUDA kernels (the general 64-bit layout beyond 2^31 elements or with negative strides).
#include <array>

#include "ops/elementwise/elementwise_math.h"

namespace sg {

namespace {

template <class T, int K, class F>
void for_each_output(const Tensor& out, std::array<const Tensor*, K> inputs, const char* name, F f) {
  T* o = out.data<T>();
  StridedLayout layouts[K];
  const T* bases[K];
  for (int k = 0; k < K; ++k) {
    layouts[k] = make_layout(*inputs[k], out.shape(), name);
    bases[k] = static_cast<const T*>(inputs[k]->storage()->data()) + layouts[k].offset;
  }
  T values[K];
  for_each_offset<K>(layouts, out.numel(), [&](int64_t i, const int64_t* offsets) {
    for (int k = 0; k < K; ++k) values[k] = bases[k][offsets[k]];
    o[i] = f(values);
  });
}

}  // namespace

void unary_cpu(UnaryOp op, const Tensor& out, const Tensor& x, double a, double b) {
  SG_DISPATCH_FLOAT_CPU(out.dtype(), "unary", [&] {
    for_each_output<scalar_t, 1>(out, {&x}, "unary", [&](const scalar_t* v) {
      return apply_unary<scalar_t>(op, v[0], scalar_t(a), scalar_t(b));
    });
  });
}

void binary_cpu(BinaryOp op, const Tensor& out, const Tensor& x, const Tensor& y) {
  SG_DISPATCH_FLOAT_CPU(out.dtype(), "binary", [&] {
    for_each_output<scalar_t, 2>(out, {&x, &y}, "binary",
                                 [&](const scalar_t* v) { return apply_binary<scalar_t>(op, v[0], v[1]); });
  });
}

void ternary_cpu(TernaryOp op, const Tensor& out, const Tensor& x, const Tensor& y, const Tensor& z) {
  SG_DISPATCH_FLOAT_CPU(out.dtype(), "ternary", [&] {
    for_each_output<scalar_t, 3>(out, {&x, &y, &z}, "ternary",
                                 [&](const scalar_t* v) { return apply_ternary<scalar_t>(op, v[0], v[1], v[2]); });
  });
}

}  // namespace sg
