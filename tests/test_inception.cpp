// The FID Inception-v3: the eval_inception fixtures (weights from the file's closed-form rule,
// pool3 and logits of every image set), the pooling and resize ops it is built from, and its
// weight checks.
#include <cmath>

#include "eval/detectors.h"
#include "eval/inception.h"
#include "ops/pool2d/pool2d.h"
#include "ops/resize_bilinear/resize_bilinear.h"
#include "tests/fixtures.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

// The fixture's weight rule: FNV-1a of the key name, splitmix64 per element, uniform in [-1, 1),
// scaled by the kind of tensor (see the file's weight_rule metadata).
Tensor rule_tensor(const std::string& name, const Shape& shape) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : name) h = (h ^ ch) * 0x100000001b3ull;
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  int64_t n = shape_numel(shape);
  double fan_in = shape.size() == 4 ? double(shape[1] * shape[2] * shape[3]) : 2048;
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    uint64_t z = h + uint64_t(i) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    double s = 2 * double(z >> 11) * std::ldexp(1.0, -53) - 1;
    double value = ends_with(".conv.weight") ? s * std::sqrt(6 / fan_in)
                   : ends_with(".bn.weight")         ? 1 + 0.1 * s
                   : ends_with(".bn.bias")           ? 0.02 * s
                   : ends_with(".bn.running_mean")   ? 0.01 * s
                   : ends_with(".bn.running_var")    ? 1 + 0.5 * s * s
                   : ends_with("fc.weight")          ? s * std::sqrt(3.0 / 2048)
                                                     : 0.01 * s;  // fc.bias
    v[size_t(i)] = double(float(value));
  }
  return Tensor::from_vector(v, shape, DType::Float32);
}

std::map<std::string, Tensor> rule_state() {
  std::map<std::string, Tensor> state;
  for (const auto& [name, shape] : eval::InceptionV3::state_shapes()) state[name] = rule_tensor(name, shape);
  return state;
}

// Every "<set>/images" in the file, through the network: pool3 and logits to 1e-4 of their
// magnitude (float32 on both sides, ~95 layers).
void check_inception_file(test::FixtureCase& c) {
  static const std::map<std::string, Tensor> state = rule_state();
  eval::InceptionV3 net(state, c.mode.device);
  int sets = 0;
  for (const auto& [name, t] : c.file->tensors) {
    if (name.size() < 7 || name.compare(name.size() - 7, 7, "/images") != 0) continue;
    std::string set = name.substr(0, name.size() - 7);
    eval::FeatureOutput out = net.forward(raw::to(t, DType::Float32, c.mode.device));
    auto expect = [&](const std::string& what, const Tensor& got) {
      test::CloseResult r = test::compare_to_max(raw::to(got, DType::Float64, Device::CPU),
                                                 raw::to(c.file->at(set + "/" + what), DType::Float64, Device::CPU), 1e-4);
      if (!r.ok) c.fail(str_cat(set, "/", what, ": ", r.message));
    };
    expect("pool3", out.features);
    expect("logits", out.logits);
    ++sets;
  }
  if (sets == 0) c.fail("no <set>/images tensors in the file");
}

SG_REGISTER_FIXTURE("eval_inception", check_inception_file,
                    {{Device::CPU, DType::Float32, "cpu float32"}, {Device::CUDA, DType::Float32, "cuda float32"}});

}  // namespace

TEST_CASE("pool2d: max and average pooling by hand, with and without counting padding") {
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}, DType::Float64);
  CHECK(max_pool2d(x, 2, 1).to_vector() == std::vector<double>{5, 6, 8, 9});
  CHECK(max_pool2d(x, 3, 2).to_vector() == std::vector<double>{9});
  // 3x3 windows with padding 1: the corner sees 4 pixels (1 + 2 + 4 + 5 = 12).
  std::vector<double> excl = avg_pool2d(x, 3, 1, 1, false).to_vector(), incl = avg_pool2d(x, 3, 1, 1, true).to_vector();
  CHECK(excl[0] == doctest::Approx(12.0 / 4));
  CHECK(incl[0] == doctest::Approx(12.0 / 9));
  CHECK(excl[4] == doctest::Approx(5.0));
  CHECK(max_pool2d(x, 3, 1, 1).to_vector()[0] == 5);
}

TEST_CASE("resize_bilinear: identity at the same size, torch's sample points when resizing") {
  Tensor x = test::random_tensor({2, 3, 5, 7}, 3, DType::Float64);
  CHECK(resize_bilinear(x, 5, 7).to_vector() == x.to_vector());
  // 1-D along W from 2 to 4: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (upper neighbour clamped).
  Tensor row = Tensor::from_vector({0, 8}, {1, 1, 1, 2}, DType::Float64);
  CHECK(resize_bilinear(row, 1, 4).to_vector() == std::vector<double>{0, 2, 6, 8});
  // Downscaling 4 -> 2 averages pixel pairs (sources 0.5 and 2.5).
  Tensor down = Tensor::from_vector({0, 2, 4, 6}, {1, 1, 1, 4}, DType::Float64);
  CHECK(resize_bilinear(down, 1, 2).to_vector() == std::vector<double>{1, 5});
}

TEST_CASE("pool2d and resize_bilinear: CUDA matches the CPU") {
  SG_REQUIRE_CUDA();
  Tensor x = test::random_tensor({2, 5, 17, 13}, 4, DType::Float32);
  Tensor xc = raw::to(x, DType::Float32, Device::CUDA);
  CHECK_CLOSE(max_pool2d(xc, 3, 2), max_pool2d(x, 3, 2), 0, 0);
  CHECK_CLOSE(avg_pool2d(xc, 3, 1, 1, false), avg_pool2d(x, 3, 1, 1, false), 1e-6, 1e-6);
  CHECK_CLOSE(resize_bilinear(xc, 31, 9), resize_bilinear(x, 31, 9), 1e-6, 1e-6);
}

TEST_CASE("inception: bad weights, bad inputs and a missing file give clear errors") {
  std::map<std::string, Tensor> state = rule_state();
  state.erase("Mixed_6c.branch7x7_2.bn.running_var");
  CHECK_THROWS_WITH(eval::InceptionV3(state, Device::CPU), doctest::Contains("Mixed_6c.branch7x7_2.bn.running_var"));
  state = rule_state();
  state["fc.weight"] = Tensor::zeros({1000, 2048});
  CHECK_THROWS_WITH(eval::InceptionV3(state, Device::CPU), doctest::Contains("[1000, 2048]"));
  state = rule_state();
  state["extra.weight"] = Tensor::zeros({1});
  CHECK_THROWS_WITH(eval::InceptionV3(state, Device::CPU), doctest::Contains("unexpected key 'extra.weight'"));
  state = rule_state();
  state["Conv2d_1a_3x3.bn.num_batches_tracked"] = Tensor::zeros({}, DType::Int64);
  eval::InceptionV3 net(state, Device::CPU);
  CHECK_THROWS_WITH(net.forward(Tensor::zeros({1, 2, 8, 8})), doctest::Contains("1 or 3"));
  CHECK_THROWS_WITH(eval::load_inception("/nonexistent/inception.safetensors", Device::CPU),
                    doctest::Contains("inception_to_safetensors.py"));
  CHECK_THROWS_WITH(max_pool2d(Tensor::zeros({1, 1, 2, 2}), 3, 1), doctest::Contains("larger than"));
}
