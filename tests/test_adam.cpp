// Adam: torch.optim.Adam's update (bias correction, eps after the square root), the official
// nan_to_num of gradients, the non-finite counter, and CUDA parity.
#include <cmath>

#include "ops/adam/adam.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

// Straight transcription of torch.optim.Adam's step for one scalar.
void reference_adam(double& p, double g, double& m, double& v, const AdamParams& a) {
  m = a.beta1 * m + (1 - a.beta1) * g;
  v = a.beta2 * v + (1 - a.beta2) * g * g;
  double bc1 = 1 - std::pow(a.beta1, double(a.step)), bc2 = 1 - std::pow(a.beta2, double(a.step));
  p -= a.lr / bc1 * m / (std::sqrt(v) / std::sqrt(bc2) + a.eps);
}

}  // namespace

TEST_CASE("adam: three steps match torch's formula, with lazy-regularisation betas") {
  Tensor p = test::random_tensor({7}, 1), m = Tensor::zeros({7}, DType::Float64), v = Tensor::zeros({7}, DType::Float64);
  std::vector<double> rp = p.to_vector(), rm(7, 0), rv(7, 0);
  AdamParams a;
  a.lr = 0.0025 * 16 / 17;  // D with R1 every 16 steps
  a.beta1 = 0.5;
  a.beta2 = std::pow(0.99, 16.0 / 17);
  for (int step = 1; step <= 3; ++step) {
    a.step = step;
    Tensor g = test::random_tensor({7}, 10 + step);
    adam_step(p, g, m, v, a, Tensor());
    std::vector<double> gv = g.to_vector();
    for (int i = 0; i < 7; ++i) reference_adam(rp[i], gv[i], rm[i], rv[i], a);
  }
  CHECK_CLOSE(p, Tensor::from_vector(rp, {7}, DType::Float64), 1e-15, 1e-13);
  CHECK_CLOSE(v, Tensor::from_vector(rv, {7}, DType::Float64), 1e-15, 1e-13);
}

TEST_CASE("adam: non-finite gradients are replaced as nan_to_num and counted") {
  Tensor p = Tensor::zeros({4}, DType::Float64), m = Tensor::zeros({4}, DType::Float64), v = Tensor::zeros({4}, DType::Float64);
  Tensor g = Tensor::from_vector({NAN, INFINITY, -INFINITY, 2e5}, {4}, DType::Float64);
  Tensor count = Tensor::zeros({1}, DType::Int64);
  AdamParams a;
  a.beta1 = 0;
  adam_step(p, g, m, v, a, count);
  CHECK(count.item() == 3);
  // beta1 = 0: m is the sanitised gradient itself; 2e5 is finite and kept.
  CHECK_CLOSE(m, Tensor::from_vector({0, 1e5, -1e5, 2e5}, {4}, DType::Float64), 0, 0);
  std::vector<double> pv = p.to_vector();
  for (double x : pv) CHECK(std::isfinite(x));
}

TEST_CASE("adam: CUDA matches CPU in float32") {
  SG_REQUIRE_CUDA();
  Tensor p = test::random_tensor({1000003}, 2, DType::Float32);
  Tensor m = test::random_tensor({1000003}, 3, DType::Float32, Device::CPU, 0, 0.1);
  Tensor v = test::random_tensor({1000003}, 4, DType::Float32, Device::CPU, 0, 0.1);
  Tensor g = test::random_tensor({1000003}, 5, DType::Float32);
  Tensor pc = raw::to(p, DType::Float32, Device::CUDA), mc = raw::to(m, DType::Float32, Device::CUDA),
         vc = raw::to(v, DType::Float32, Device::CUDA), gc = raw::to(g, DType::Float32, Device::CUDA);
  AdamParams a;
  a.step = 5;
  Tensor count = Tensor::zeros({1}, DType::Int64, Device::CUDA);
  adam_step(p, g, m, v, a, Tensor());
  adam_step(pc, gc, mc, vc, a, count);
  CHECK(count.item() == 0);
  CHECK_CLOSE(pc, p, 1e-7, 1e-5);  // float32 rounding of a few operations per element
  CHECK_CLOSE(vc, v, 1e-9, 1e-6);
}

TEST_CASE("adam: bad arguments") {
  Tensor p = Tensor::zeros({4}), g = Tensor::zeros({3});
  CHECK_THROWS_WITH_ALL(adam_step(p, g, Tensor::zeros({4}), Tensor::zeros({4}), AdamParams(), Tensor()), "adam",
                        "float32[4]", "float32[3]");
  AdamParams a;
  a.step = 0;
  CHECK_THROWS_WITH_ALL(adam_step(p, Tensor::zeros({4}), Tensor::zeros({4}), Tensor::zeros({4}), a, Tensor()), "adam",
                        "step must be >= 1");
}
