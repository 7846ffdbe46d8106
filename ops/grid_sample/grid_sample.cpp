#include "ops/grid_sample/grid_sample.h"

#include "autograd/autograd.h"
#include "ops/elementwise/elementwise.h"
#include "ops/matmul/matmul.h"
#include "ops/shape/shape.h"

namespace sg {

namespace {

template <class Cpu, class Cuda>
Tensor run(Cpu cpu, Cuda cuda, const Shape& out_shape, const Tensor& a, const Tensor& grid, const GridSampleShape& s) {
  Tensor ca = raw::contiguous(a), cg = raw::contiguous(grid);
  if (a.device() == Device::CPU && is_half(a.dtype())) {
    Tensor out = Tensor::empty(out_shape, DType::Float32, Device::CPU);
    cpu(out, raw::to(ca, DType::Float32, Device::CPU), raw::to(cg, DType::Float32, Device::CPU), s);
    return raw::to(out, a.dtype(), Device::CPU);
  }
  Tensor out = Tensor::empty(out_shape, a.dtype(), a.device());
  if (out.numel() > 0) (a.is_cuda() ? cuda : cpu)(out, ca, cg, s);
  return out;
}

// The adjoint of grid_sample in x: linear in dy, so its backward is grid_sample itself.
Tensor grid_sample_backward_input(const Tensor& dy, const Tensor& grid, const GridSampleShape& s) {
  Tensor dx = run(grid_sample_backward_cpu, grid_sample_backward_cuda, {s.N, s.C, s.H, s.W}, dy, grid, s);
  record("grid_sample_backward", {dy}, {dx}, [grid](const std::vector<Tensor>& g, const std::vector<bool>&) {
    return std::vector<Tensor>{grid_sample(g[0], grid)};
  });
  return dx;
}

}  // namespace

Tensor grid_sample(const Tensor& x, const Tensor& grid) {
  SG_CHECK(x.dim() == 4, "grid_sample: expected x [N, C, H, W], got ", shape_str(x.shape()));
  SG_CHECK(grid.dim() == 4 && grid.size(0) == x.size(0) && grid.size(3) == 2, "grid_sample: expected grid [",
           x.size(0), ", Ho, Wo, 2], got ", shape_str(grid.shape()));
  SG_CHECK(is_floating(x.dtype()) && grid.dtype() == x.dtype() && grid.device() == x.device(), "grid_sample: x ",
           x.describe(), " and grid ", grid.describe(), " must be floating tensors of one dtype and device");
  GridSampleShape s{x.size(0), x.size(1), x.size(2), x.size(3), grid.size(1), grid.size(2)};
  Tensor y = run(grid_sample_forward_cpu, grid_sample_forward_cuda, {s.N, s.C, s.Ho, s.Wo}, x, grid, s);
  Tensor grid_value = grid.detach();
  record("grid_sample", {x, grid}, {y}, [grid_value, s](const std::vector<Tensor>& g, const std::vector<bool>& need) {
    SG_CHECK(!need[1], "grid_sample: the gradient with respect to the grid is not supported");
    return std::vector<Tensor>{grid_sample_backward_input(g[0], grid_value, s), Tensor()};
  });
  return y;
}

Tensor affine_grid(const Tensor& theta, const Shape& size) {
  SG_CHECK(theta.dim() == 3 && theta.size(1) == 2 && theta.size(2) == 3, "affine_grid: expected theta [N, 2, 3], got ",
           shape_str(theta.shape()));
  SG_CHECK(size.size() == 4 && size[0] == theta.size(0), "affine_grid: expected size [", theta.size(0),
           ", C, H, W], got ", shape_str(size));
  int64_t N = size[0], H = size[2], W = size[3];
  // Base grid of pixel centres in [-1, 1] (align_corners = false), homogeneous: [H * W, 3].
  std::vector<double> base;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) base.insert(base.end(), {(2.0 * x + 1) / W - 1, (2.0 * y + 1) / H - 1, 1.0});
  Tensor b = Tensor::from_vector(base, {1, H * W, 3}, theta.dtype(), theta.device());
  return reshape(matmul(b, transpose(theta, 1, 2)), {N, H, W, 2});
}

}  // namespace sg
