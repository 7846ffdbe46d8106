// grid_sample API: argument checks, dispatch to the CPU loops or CUDA kernels, the backward pair
// (grid_sample <-> grid_sample_backward_input, each the other's adjoint in x) and affine_grid.
#include "ops/grid_sample/grid_sample.h"

#include "autograd/autograd.h"
#include "ops/matmul/matmul.h"
#include "ops/shape/shape.h"

namespace sg {

namespace {

void check_grid(const char* op, const Tensor& grid, const Tensor& image) {
  SG_CHECK(grid.dim() == 4 && grid.size(0) == image.size(0) && grid.size(3) == 2, op, ": expected grid [",
           image.size(0), ", Ho, Wo, 2], got ", shape_str(grid.shape()));
  SG_CHECK(is_floating(image.dtype()), op, ": expected a floating dtype, got ", image.describe());
  SG_CHECK(grid.dtype() == image.dtype(), op, ": expected grid of dtype ", dtype_name(image.dtype()), ", got ",
           grid.describe());
  SG_CHECK(grid.device() == image.device(), op, ": expected grid on ", device_name(image.device()), ", got ",
           grid.describe());
}

// Runs the CPU or CUDA kernel on contiguous operands; 16-bit CPU tensors go through float32.
template <class Cpu, class Cuda>
Tensor run(Cpu cpu, Cuda cuda, const Shape& out_shape, const Tensor& a, const Tensor& grid, const GridSampleShape& s) {
  Tensor ca = raw::contiguous(a), cg = raw::contiguous(grid);
  if (a.device() == Device::CPU && is_half(a.dtype())) {
    Tensor out = Tensor::empty(out_shape, DType::Float32, Device::CPU);
    cpu(out, raw::to(ca, DType::Float32, Device::CPU), raw::to(cg, DType::Float32, Device::CPU), s);
    return raw::to(out, a.dtype(), Device::CPU);
  }
  Tensor out = Tensor::empty(out_shape, a.dtype(), a.device());
  (a.is_cuda() ? cuda : cpu)(out, ca, cg, s);
  return out;
}

const char* const kGridGradientError =
    ": the gradient with respect to the grid is not supported (only the image gets one); "
    "detach the grid or ask for the image's gradient alone";

}  // namespace

Tensor grid_sample(const Tensor& x, const Tensor& grid) {
  SG_CHECK(x.dim() == 4, "grid_sample: expected x [N, C, H, W], got ", shape_str(x.shape()));
  check_grid("grid_sample", grid, x);
  GridSampleShape s{x.size(0), x.size(1), x.size(2), x.size(3), grid.size(1), grid.size(2)};
  Tensor y = run(grid_sample_forward_cpu, grid_sample_forward_cuda, {s.N, s.C, s.Ho, s.Wo}, x, grid, s);
  Tensor grid_value = grid.detach();
  Shape x_shape = x.shape();
  record("grid_sample", {x, grid}, {y}, [grid_value, x_shape](const std::vector<Tensor>& g, const std::vector<bool>& need) {
    SG_CHECK(!need[1], "grid_sample", kGridGradientError);
    return std::vector<Tensor>{grid_sample_backward_input(g[0], grid_value, x_shape), Tensor()};
  });
  return y;
}

Tensor grid_sample_backward_input(const Tensor& dy, const Tensor& grid, const Shape& x_shape) {
  SG_CHECK(dy.dim() == 4, "grid_sample_backward_input: expected dy [N, C, Ho, Wo], got ", shape_str(dy.shape()));
  check_grid("grid_sample_backward_input", grid, dy);
  SG_CHECK(grid.size(1) == dy.size(2) && grid.size(2) == dy.size(3),
           "grid_sample_backward_input: dy ", shape_str(dy.shape()), " does not match grid ", shape_str(grid.shape()));
  SG_CHECK(x_shape.size() == 4 && x_shape[0] == dy.size(0) && x_shape[1] == dy.size(1) && x_shape[2] >= 0 &&
               x_shape[3] >= 0,
           "grid_sample_backward_input: expected x_shape [", dy.size(0), ", ", dy.size(1), ", H, W], got ",
           shape_str(x_shape));
  GridSampleShape s{x_shape[0], x_shape[1], x_shape[2], x_shape[3], grid.size(1), grid.size(2)};
  Tensor dx = run(grid_sample_backward_cpu, grid_sample_backward_cuda, x_shape, dy, grid, s);
  Tensor grid_value = grid.detach();
  // Linear in dy with the transposed sampling matrix, so its own backward samples again.
  record("grid_sample_backward_input", {dy, grid}, {dx},
         [grid_value](const std::vector<Tensor>& g, const std::vector<bool>& need) {
           SG_CHECK(!need[1], "grid_sample_backward_input", kGridGradientError);
           return std::vector<Tensor>{grid_sample(g[0], grid_value), Tensor()};
         });
  return dx;
}

Tensor affine_grid(const Tensor& theta, const Shape& size) {
  SG_CHECK(theta.dim() == 3 && theta.size(1) == 2 && theta.size(2) == 3, "affine_grid: expected theta [N, 2, 3], got ",
           shape_str(theta.shape()));
  SG_CHECK(is_floating(theta.dtype()), "affine_grid: expected a floating theta, got ", theta.describe());
  SG_CHECK(size.size() == 4 && size[0] == theta.size(0) && size[2] > 0 && size[3] > 0, "affine_grid: expected size [",
           theta.size(0), ", C, H > 0, W > 0], got ", shape_str(size));
  int64_t N = size[0], H = size[2], W = size[3];
  // Base grid of pixel centres in [-1, 1] (align_corners = false), homogeneous: [H * W, 3].
  std::vector<double> base;
  base.reserve(H * W * 3);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) base.insert(base.end(), {(2.0 * x + 1) / W - 1, (2.0 * y + 1) / H - 1, 1.0});
  Tensor b = Tensor::from_vector(base, {1, H * W, 3}, theta.dtype(), theta.device());
  return reshape(matmul(b, transpose(theta, 1, 2)), {N, H, W, 2});  // [N, H * W, 2]
}

}  // namespace sg
