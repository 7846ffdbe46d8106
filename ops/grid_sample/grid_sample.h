// grid_sample: bilinear sampling of images at normalised coordinates, with zero padding and
// align_corners = false (torch.nn.functional.grid_sample in that mode), and affine_grid, the
// sampling grid of an affine map (align_corners = false). The augmentation pipe warps images with
// them, and R1 differentiates through the warp, so the gradient with respect to the image works
// to any order: its backward is grid_sample_backward_input, a scatter whose own backward is
// grid_sample again. The grid gets no gradient; asking for one is an error.
#pragma once
#include "engine/tensor.h"

namespace sg {

// x [N, C, H, W], grid [N, Ho, Wo, 2] holding (x, y) in [-1, 1] (x along W, y along H; points
// outside sample zeros) -> [N, C, Ho, Wo]. x and grid share one floating dtype and device.
Tensor grid_sample(const Tensor& x, const Tensor& grid);
// The gradient of grid_sample with respect to x: dy [N, C, Ho, Wo], grid [N, Ho, Wo, 2] ->
// dx of x_shape [N, C, H, W]. Linear in dy and differentiable in it (its backward is grid_sample).
Tensor grid_sample_backward_input(const Tensor& dy, const Tensor& grid, const Shape& x_shape);
// theta [N, 2, 3] -> grid [N, H, W, 2] for an output of size [N, C, H, W]; differentiable in theta.
Tensor affine_grid(const Tensor& theta, const Shape& size);

// Raw kernels on contiguous tensors of one dtype (16-bit ones compute in float).
// forward: out[n, c, p] = bilinear(x[n, c], grid[n, p]);
// backward: dx[n, c] = the sum over output pixels p of dy[n, c, p] times p's bilinear weights.
struct GridSampleShape {
  int64_t N, C, H, W, Ho, Wo;
};
void grid_sample_forward_cpu(const Tensor& out, const Tensor& x, const Tensor& grid, const GridSampleShape& s);
void grid_sample_backward_cpu(const Tensor& dx, const Tensor& dy, const Tensor& grid, const GridSampleShape& s);
void grid_sample_forward_cuda(const Tensor& out, const Tensor& x, const Tensor& grid, const GridSampleShape& s);
void grid_sample_backward_cuda(const Tensor& dx, const Tensor& dy, const Tensor& grid, const GridSampleShape& s);

}  // namespace sg
