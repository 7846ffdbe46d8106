// CPU convolution through im2col and OpenBLAS: per sample and group, the receptive fields are
// unrolled into columns [C/g * R * S, Ho * Wo] and one GEMM with the weights does the rest.
#include <cblas.h>

#include <cstring>
#include <vector>

#include "ops/conv2d/conv2d.h"

namespace sg {

namespace {

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, const T* b, T beta, T* c) {
  auto ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
  int64_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
  if constexpr (std::is_same_v<T, double>)
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, beta, c, n);
  else
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, n);
}

// cols[(c * R + r) * S + q][oy * Wo + ox] = x[c][oy * sh - ph + r][ox * sw - pw + q] (0 outside).
template <class T>
void im2col(const T* x, int64_t channels, const ConvShape& s, T* cols) {
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t r = 0; r < s.R; ++r)
      for (int64_t q = 0; q < s.S; ++q) {
        T* row = cols + ((c * s.R + r) * s.S + q) * s.Ho * s.Wo;
        for (int64_t oy = 0; oy < s.Ho; ++oy) {
          int64_t iy = oy * s.stride_h - s.pad_h + r;
          for (int64_t ox = 0; ox < s.Wo; ++ox) {
            int64_t ix = ox * s.stride_w - s.pad_w + q;
            bool inside = iy >= 0 && iy < s.H && ix >= 0 && ix < s.W;
            row[oy * s.Wo + ox] = inside ? x[(c * s.H + iy) * s.W + ix] : T(0);
          }
        }
      }
}

// The adjoint of im2col: adds every column entry back into its input pixel.
template <class T>
void col2im(const T* cols, int64_t channels, const ConvShape& s, T* x) {
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t r = 0; r < s.R; ++r)
      for (int64_t q = 0; q < s.S; ++q) {
        const T* row = cols + ((c * s.R + r) * s.S + q) * s.Ho * s.Wo;
        for (int64_t oy = 0; oy < s.Ho; ++oy) {
          int64_t iy = oy * s.stride_h - s.pad_h + r;
          if (iy < 0 || iy >= s.H) continue;
          for (int64_t ox = 0; ox < s.Wo; ++ox) {
            int64_t ix = ox * s.stride_w - s.pad_w + q;
            if (ix >= 0 && ix < s.W) x[(c * s.H + iy) * s.W + ix] += row[oy * s.Wo + ox];
          }
        }
      }
}

bool is_pointwise(const ConvShape& s) {
  return s.R == 1 && s.S == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_h == 0 && s.pad_w == 0;
}

// Calls f(n, g, columns) for every sample and group, where columns is that group's input unrolled
// by im2col ([C/g * R * S, Ho * Wo]; the input itself for a pointwise convolution).
template <class T, class F>
void for_each_unrolled(const Tensor& x, const ConvShape& s, F f) {
  int64_t cg = s.C / s.groups;
  std::vector<T> cols(is_pointwise(s) ? 0 : cg * s.R * s.S * s.Ho * s.Wo);
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t g = 0; g < s.groups; ++g) {
      const T* xg = x.data<T>() + (n * s.C + g * cg) * s.H * s.W;
      if (!is_pointwise(s)) im2col(xg, cg, s, cols.data());
      f(n, g, is_pointwise(s) ? xg : cols.data());
    }
}

}  // namespace

void conv2d_forward_cpu(const Tensor& y, const Tensor& x, const Tensor& w, const ConvShape& s) {
  SG_DISPATCH_FLOAT_CPU(x.dtype(), "conv2d", [&] {
    int64_t kg = s.K / s.groups, patch = s.C / s.groups * s.R * s.S, pixels = s.Ho * s.Wo;
    for_each_unrolled<scalar_t>(x, s, [&](int64_t n, int64_t g, const scalar_t* cols) {
      gemm<scalar_t>(false, false, kg, pixels, patch, w.data<scalar_t>() + g * kg * patch, cols, 0,
                     y.data<scalar_t>() + (n * s.K + g * kg) * pixels);
    });
  });
}

void conv2d_backward_data_cpu(const Tensor& x, const Tensor& y, const Tensor& w, const ConvShape& s) {
  SG_DISPATCH_FLOAT_CPU(x.dtype(), "conv_transpose2d", [&] {
    int64_t cg = s.C / s.groups, kg = s.K / s.groups, patch = cg * s.R * s.S, pixels = s.Ho * s.Wo;
    std::vector<scalar_t> cols(patch * pixels);
    std::memset(x.data_ptr(), 0, x.numel() * sizeof(scalar_t));
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t g = 0; g < s.groups; ++g) {
        scalar_t* xg = x.data<scalar_t>() + (n * s.C + g * cg) * s.H * s.W;
        const scalar_t* yg = y.data<scalar_t>() + (n * s.K + g * kg) * pixels;
        if (is_pointwise(s)) {
          gemm<scalar_t>(true, false, patch, pixels, kg, w.data<scalar_t>() + g * kg * patch, yg, 0, xg);
          continue;
        }
        gemm<scalar_t>(true, false, patch, pixels, kg, w.data<scalar_t>() + g * kg * patch, yg, 0, cols.data());
        col2im(cols.data(), cg, s, xg);
      }
  });
}

void conv2d_backward_weight_cpu(const Tensor& dw, const Tensor& x, const Tensor& dy, const ConvShape& s) {
  SG_DISPATCH_FLOAT_CPU(x.dtype(), "conv2d_weight_grad", [&] {
    int64_t kg = s.K / s.groups, patch = s.C / s.groups * s.R * s.S, pixels = s.Ho * s.Wo;
    for_each_unrolled<scalar_t>(x, s, [&](int64_t n, int64_t g, const scalar_t* cols) {
      // The first sample overwrites, the others accumulate.
      gemm<scalar_t>(false, true, kg, patch, pixels, dy.data<scalar_t>() + (n * s.K + g * kg) * pixels, cols,
                     n == 0 ? scalar_t(0) : scalar_t(1), dw.data<scalar_t>() + g * kg * patch);
    });
  });
}

}  // namespace sg
