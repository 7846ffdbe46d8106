// Elementwise ops with numpy broadcasting: the differentiable API used everywhere.
// Binary and ternary ops require inputs of one dtype and device (cast explicitly with `cast`).
// Comparisons return 0/1 in the input dtype and carry no gradient.
#pragma once
#include "engine/tensor.h"

namespace sg {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // ties split the gradient evenly
Tensor minimum(const Tensor& a, const Tensor& b);

Tensor add(const Tensor& a, double s);
Tensor mul(const Tensor& a, double s);

Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, double s);
Tensor lt(const Tensor& a, double s);

Tensor neg(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor square(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor pow(const Tensor& x, double exponent);
// Gradient 1 inside [lo, hi] including the bounds, 0 outside (as torch.clamp).
Tensor clamp(const Tensor& x, double lo, double hi);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor softplus(const Tensor& x);  // log(1 + e^x), linear above 20 as torch's default
Tensor leaky_relu(const Tensor& x, double slope);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor floor(const Tensor& x);  // zero gradient
Tensor round(const Tensor& x);  // half to even, zero gradient

// cond != 0 ? a : b (no gradient to cond).
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// a + t * (b - a)
Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& t);
Tensor lerp(const Tensor& a, const Tensor& b, double t);
// a * b + c in one pass, rounded once for 16-bit types (the official fma of the modulated conv).
Tensor multiply_add(const Tensor& a, const Tensor& b, const Tensor& c);

// Shape that a and b broadcast to (numpy rules); names the op in the error.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op_name);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& a, double s) { return add(a, s); }
inline Tensor operator+(double s, const Tensor& a) { return add(a, s); }
inline Tensor operator-(const Tensor& a, double s) { return add(a, -s); }
inline Tensor operator-(double s, const Tensor& a) { return add(neg(a), s); }
inline Tensor operator*(const Tensor& a, double s) { return mul(a, s); }
inline Tensor operator*(double s, const Tensor& a) { return mul(a, s); }
inline Tensor operator/(const Tensor& a, double s) { return mul(a, 1.0 / s); }
inline Tensor operator/(double s, const Tensor& a) { return mul(reciprocal(a), s); }

// Raw kernels behind the API (no autograd): `out` is a contiguous tensor of the broadcast shape.
enum class UnaryOp {
  Neg, Abs, Sign, Exp, Log, Sqrt, Rsqrt, Square, Reciprocal, Pow, Clamp, Sigmoid, Tanh, Softplus,
  LeakyRelu, Sin, Cos, Floor, Round, AddScalar, MulScalar, GtScalar, LtScalar,
  ClampMask,  // 1 inside [a, b], 0 outside
  LeakyReluSlope,  // 1 where x > 0, else a
};
enum class BinaryOp { Add, Sub, Mul, Div, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge };
enum class TernaryOp { Where, Lerp, MultiplyAdd };

void unary_cpu(UnaryOp op, const Tensor& out, const Tensor& x, double a, double b);
void unary_cuda(UnaryOp op, const Tensor& out, const Tensor& x, double a, double b);
void binary_cpu(BinaryOp op, const Tensor& out, const Tensor& x, const Tensor& y);
void binary_cuda(BinaryOp op, const Tensor& out, const Tensor& x, const Tensor& y);
void ternary_cpu(TernaryOp op, const Tensor& out, const Tensor& x, const Tensor& y, const Tensor& z);
void ternary_cuda(TernaryOp op, const Tensor& out, const Tensor& x, const Tensor& y, const Tensor& z);

}  // namespace sg
