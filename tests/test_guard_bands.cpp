// Every CUDA kernel writes its output and nothing else: outputs are placed between guard bands of
// NaNs (1024 elements each side) in one buffer, and after each launch the bands must be intact.
// The shapes are chosen to end mid-pack (odd counts, tails after 16-byte packs) and to start
// unaligned, where an off-by-one in a pack or tail would write past the output.
#include <cmath>
#include <limits>

#include "engine/copy.h"
#include "ops/bias_act/bias_act.h"
#include "ops/color_transform/color_transform.h"
#include "ops/elementwise/elementwise.h"
#include "ops/upfirdn2d/upfirdn2d.h"
#include "ops/warp_upsampled/warp_upsampled.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

constexpr int64_t kGuard = 1024;

// An output of `shape` at `offset` elements past the first guard band, inside a NaN-filled buffer.
struct Guarded {
  Tensor buffer, out;
  int64_t begin, end;  // the output's element range within the buffer
};

Guarded guarded(const Shape& shape, DType dtype, int64_t misalign = 0) {
  const int64_t n = shape_numel(shape);
  Guarded g;
  g.buffer = Tensor::empty({2 * kGuard + misalign + n}, dtype, Device::CUDA);
  g.buffer.fill_(std::numeric_limits<double>::quiet_NaN());
  g.begin = kGuard + misalign;
  g.end = g.begin + n;
  g.out = raw::reshape(raw::narrow(g.buffer, 0, g.begin, n), shape);
  return g;
}

void check_bands(const Guarded& g) {
  std::vector<double> all = g.buffer.to_vector();
  int64_t touched = 0;
  for (int64_t i = 0; i < int64_t(all.size()); ++i)
    if ((i < g.begin || i >= g.end) && !std::isnan(all[size_t(i)])) ++touched;
  CHECK_MESSAGE(touched == 0, touched, " guard elements were overwritten");
  for (int64_t i = g.begin; i < g.end; ++i) REQUIRE_FALSE(std::isnan(all[size_t(i)]));
}

Tensor device_random(const Shape& shape, uint64_t seed, DType dtype) {
  return raw::to(test::random_tensor(shape, seed, DType::Float32), dtype, Device::CUDA);
}

}  // namespace

TEST_CASE("guard bands: elementwise, bias_act, copies, fills, the color transform and the warp write only their outputs") {
  SG_REQUIRE_CUDA();
  for (DType dtype : {DType::Float32, DType::Float16, DType::Float64}) {
    for (int64_t misalign : {0, 1}) {  // 1: the output starts off a 16-byte boundary
      CAPTURE(std::string(dtype_name(dtype)));
      CAPTURE(misalign);
      const Shape shape = {3, 5, 7, 9};  // 945 elements: not a multiple of any pack width
      Tensor x = device_random(shape, 1, dtype), y = device_random(shape, 2, dtype);
      Tensor bias = device_random({1, 5, 1, 1}, 3, dtype);

      Guarded g = guarded(shape, dtype, misalign);
      unary_cuda(UnaryOp::Square, g.out, x, 0, 0);
      check_bands(g);
      g = guarded(shape, dtype, misalign);
      binary_cuda(BinaryOp::Add, g.out, x, y);
      check_bands(g);
      g = guarded(shape, dtype, misalign);
      binary_cuda(BinaryOp::Mul, g.out, x, bias);  // broadcast: the mapped kernel
      check_bands(g);
      g = guarded(shape, dtype, misalign);
      ternary_cuda(TernaryOp::Lerp, g.out, x, y, bias);
      check_bands(g);

      for (int64_t channels_last : {9, 8}) {  // channel runs of 63 (one element per step) and 64 (packs)
        const Shape s = {3, 5, 7, channels_last};
        Tensor xb = device_random(s, 4, dtype), b = device_random({5}, 5, dtype);
        BiasActParams p{Activation::Lrelu, 0, 0.2, std::sqrt(2.0), 256, shape_numel(s), 7 * channels_last, 5};
        g = guarded(s, dtype, misalign);
        bias_act_cuda(g.out, xb, b, Tensor(), Tensor(), Tensor(), p);
        check_bands(g);
      }

      // Copies: a conversion (packs), a permuted gather (mapped) and a same-dtype contiguous copy.
      Tensor other = device_random(shape, 6, dtype == DType::Float32 ? DType::Float16 : DType::Float32);
      g = guarded(shape, dtype, misalign);
      g.out.copy_(other);
      check_bands(g);
      g = guarded({9, 7, 5, 3}, dtype, misalign);
      g.out.copy_(raw::permute(x, {3, 2, 1, 0}));
      check_bands(g);
      g = guarded(shape, dtype, misalign);
      g.out.copy_(x);
      check_bands(g);
      g = guarded(shape, dtype, misalign);
      g.out.fill_(1);
      check_bands(g);

      Tensor image = device_random({3, 3, 7, 9}, 7, dtype), matrix = device_random({3, 3, 3}, 8, dtype);
      g = guarded({3, 3, 63}, dtype, misalign);
      color_transform_cuda(g.out, raw::reshape(image, {3, 3, 63}), matrix, device_random({3, 3}, 9, dtype));
      check_bands(g);

      if (dtype == DType::Float16) continue;  // the warp takes float32 and float64
      const WarpUpsampledShape ws{3, 3, 7, 9, 17, 13, Pad4(2, 3, 1, 4)};
      Tensor theta = Tensor::from_vector({1.1, 0.2, 0.05, -0.1, 0.9, -0.1, 0.8, 0, 0, 0, 1.2, 0.1, 1, 0, 0.3, 0.4, 1, 0},
                                         {3, 2, 3}, dtype, Device::CUDA);
      Tensor filter = raw::to(setup_filter(std::vector<double>{1, 3, 3, 1}, true, false, 1, 1), dtype, Device::CUDA);
      for (const Tensor& f : {Tensor(), filter}) {
        g = guarded({3, 3, 17, 13}, dtype, misalign);
        warp_upsampled_cuda(g.out, image, theta, f, ws);
        check_bands(g);
      }
    }
  }
}
