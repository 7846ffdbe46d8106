// The scalar formula of every elementwise op, shared by the CPU loops and the CUDA kernels so
// both devices compute the same expression. T is float or double (16-bit types compute in float).
#pragma once
#include <math.h>

#include "engine/strided.h"
#include "ops/elementwise/elementwise.h"

namespace sg {
namespace emath {

SG_HOST_DEVICE inline float exp_(float x) { return expf(x); }
SG_HOST_DEVICE inline double exp_(double x) { return ::exp(x); }
SG_HOST_DEVICE inline float log_(float x) { return logf(x); }
SG_HOST_DEVICE inline double log_(double x) { return ::log(x); }
SG_HOST_DEVICE inline float log1p_(float x) { return log1pf(x); }
SG_HOST_DEVICE inline double log1p_(double x) { return ::log1p(x); }
SG_HOST_DEVICE inline float sqrt_(float x) { return sqrtf(x); }
SG_HOST_DEVICE inline double sqrt_(double x) { return ::sqrt(x); }
SG_HOST_DEVICE inline float tanh_(float x) { return tanhf(x); }
SG_HOST_DEVICE inline double tanh_(double x) { return ::tanh(x); }
SG_HOST_DEVICE inline float sin_(float x) { return sinf(x); }
SG_HOST_DEVICE inline double sin_(double x) { return ::sin(x); }
SG_HOST_DEVICE inline float cos_(float x) { return cosf(x); }
SG_HOST_DEVICE inline double cos_(double x) { return ::cos(x); }
SG_HOST_DEVICE inline float floor_(float x) { return floorf(x); }
SG_HOST_DEVICE inline double floor_(double x) { return ::floor(x); }
SG_HOST_DEVICE inline float rint_(float x) { return rintf(x); }
SG_HOST_DEVICE inline double rint_(double x) { return ::rint(x); }
SG_HOST_DEVICE inline float pow_(float x, float p) { return powf(x, p); }
SG_HOST_DEVICE inline double pow_(double x, double p) { return ::pow(x, p); }

}  // namespace emath

template <class T>
SG_HOST_DEVICE inline T apply_unary(UnaryOp op, T x, T a, T b) {
  using namespace emath;
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Abs: return x < T(0) ? -x : x;
    case UnaryOp::Sign: return T((x > T(0)) - (x < T(0)));
    case UnaryOp::Exp: return exp_(x);
    case UnaryOp::Log: return log_(x);
    case UnaryOp::Sqrt: return sqrt_(x);
    case UnaryOp::Rsqrt: return T(1) / sqrt_(x);
    case UnaryOp::Square: return x * x;
    case UnaryOp::Reciprocal: return T(1) / x;
    case UnaryOp::Pow: return pow_(x, a);
    case UnaryOp::Clamp: return x < a ? a : (x > b ? b : x);
    case UnaryOp::Sigmoid: return T(1) / (T(1) + exp_(-x));
    case UnaryOp::Tanh: return tanh_(x);
    case UnaryOp::Softplus: return x > T(20) ? x : log1p_(exp_(x));
    case UnaryOp::LeakyRelu: return x > T(0) ? x : x * a;
    case UnaryOp::Sin: return sin_(x);
    case UnaryOp::Cos: return cos_(x);
    case UnaryOp::Floor: return floor_(x);
    case UnaryOp::Round: return rint_(x);
    case UnaryOp::AddScalar: return x + a;
    case UnaryOp::MulScalar: return x * a;
    case UnaryOp::GtScalar: return T(x > a);
    case UnaryOp::LtScalar: return T(x < a);
    case UnaryOp::ClampMask: return T(x >= a && x <= b);
    case UnaryOp::LeakyReluSlope: return x > T(0) ? T(1) : a;
  }
  return x;
}

template <class T>
SG_HOST_DEVICE inline T apply_binary(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::Add: return x + y;
    case BinaryOp::Sub: return x - y;
    case BinaryOp::Mul: return x * y;
    case BinaryOp::Div: return x / y;
    case BinaryOp::Maximum: return (x != x || x > y) ? x : y;  // NaN propagates as in torch
    case BinaryOp::Minimum: return (x != x || x < y) ? x : y;
    case BinaryOp::Eq: return T(x == y);
    case BinaryOp::Ne: return T(x != y);
    case BinaryOp::Lt: return T(x < y);
    case BinaryOp::Le: return T(x <= y);
    case BinaryOp::Gt: return T(x > y);
    case BinaryOp::Ge: return T(x >= y);
  }
  return x;
}

template <class T>
SG_HOST_DEVICE inline T apply_ternary(TernaryOp op, T x, T y, T z) {
  switch (op) {
    case TernaryOp::Where: return x != T(0) ? y : z;
    case TernaryOp::Lerp: return x + z * (y - x);
    case TernaryOp::MultiplyAdd: return x * y + z;
  }
  return x;
}

}  // namespace sg
