// grid_sample: bilinear sampling of images at normalised coordinates, with zero padding and
// align_corners = false (torch.nn.functional.grid_sample in that mode), and affine_grid, the
// sampling grid of an affine map (align_corners = false). The augmentation pipe warps images with
// them, and R1 differentiates through the warp, so the gradient with respect to the image works
// to any order: its backward is a scatter whose own backward is grid_sample again. The grid gets
// no gradient; asking for one is an error.
#pragma once
#include "engine/tensor.h"

namespace sg {

// x [N, C, H, W], grid [N, Ho, Wo, 2] holding (x, y) in [-1, 1] -> [N, C, Ho, Wo].
Tensor grid_sample(const Tensor& x, const Tensor& grid);
// theta [N, 2, 3] -> grid [N, H, W, 2] for an output of size [N, C, H, W]; differentiable in theta.
Tensor affine_grid(const Tensor& theta, const Shape& size);

// Raw kernels on contiguous tensors of one dtype. forward: out[n, c, p] = bilinear(x[n, c], grid[n, p]);
// backward: dx[n, c] += the bilinear weights of every output pixel times dy (dx zeroed first).
struct GridSampleShape {
  int64_t N, C, H, W, Ho, Wo;
};
void grid_sample_forward_cpu(const Tensor& out, const Tensor& x, const Tensor& grid, const GridSampleShape& s);
void grid_sample_backward_cpu(const Tensor& dx, const Tensor& dy, const Tensor& grid, const GridSampleShape& s);
void grid_sample_forward_cuda(const Tensor& out, const Tensor& x, const Tensor& grid, const GridSampleShape& s);
void grid_sample_backward_cuda(const Tensor& dx, const Tensor& dy, const Tensor& grid, const GridSampleShape& s);

}  // namespace sg
