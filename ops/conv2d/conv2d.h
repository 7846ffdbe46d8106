// 2-D convolution (cross-correlation, as torch.nn.functional.conv2d) and its transpose, NCHW,
// with stride, symmetric padding per axis, groups and (for the transpose) output padding.
// cuDNN on CUDA (algorithms picked once per shape and cached; float32 without TF32, as the
// official trainer runs), im2col + BLAS on the CPU. Backward rules use these same ops plus a
// differentiable weight-gradient op, so gradients of any order work (R1, path length).
#pragma once
#include "engine/op_args.h"
#include "engine/tensor.h"

namespace sg {

// x [N, C, H, W], w [K, C/groups, R, S], bias [K] or undefined -> [N, K, Ho, Wo].
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor(), Int2 stride = 1, Int2 padding = 0,
              int groups = 1);
// x [N, C, H, W], w [C, K/groups, R, S] (torch layout), bias [K] or undefined -> [N, K, Ho, Wo]
// with Ho = (H - 1) * stride - 2 * padding + R + output_padding.
Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor(), Int2 stride = 1,
                        Int2 padding = 0, Int2 output_padding = 0, int groups = 1);

// While alive (per thread), convolution backward skips weight and bias gradients, like the
// official conv2d_gradfix.no_weight_gradients() (which skips the weight; the bias goes with it
// here): used around the inner gradients of R1 and path length, where only the input gradient is
// needed (the outer backward still reaches the weights through the create_graph path).
class NoWeightGradientsGuard {
 public:
  NoWeightGradientsGuard();
  ~NoWeightGradientsGuard();
  NoWeightGradientsGuard(const NoWeightGradientsGuard&) = delete;
  NoWeightGradientsGuard& operator=(const NoWeightGradientsGuard&) = delete;

 private:
  bool previous_;
};
bool weight_gradients_enabled();

// The geometry of a convolution from x [N, C, H, W] to y [N, K, Ho, Wo] with kernel R x S.
struct ConvShape {
  int64_t N, C, H, W, K, R, S, Ho, Wo;
  int stride_h, stride_w, pad_h, pad_w, groups;
};
// Raw kernels on contiguous tensors of one dtype:
//   forward:        y = conv(x, w)
//   backward_data:  x = conv^T(y, w)   (the transposed convolution)
//   backward_weight: w = weight gradient from x and dy
void conv2d_forward_cpu(const Tensor& y, const Tensor& x, const Tensor& w, const ConvShape& s);
void conv2d_backward_data_cpu(const Tensor& x, const Tensor& y, const Tensor& w, const ConvShape& s);
void conv2d_backward_weight_cpu(const Tensor& dw, const Tensor& x, const Tensor& dy, const ConvShape& s);
void conv2d_forward_cuda(const Tensor& y, const Tensor& x, const Tensor& w, const ConvShape& s);
void conv2d_backward_data_cuda(const Tensor& x, const Tensor& y, const Tensor& w, const ConvShape& s);
void conv2d_backward_weight_cuda(const Tensor& dw, const Tensor& x, const Tensor& dy, const ConvShape& s);

}  // namespace sg
