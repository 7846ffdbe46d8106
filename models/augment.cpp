// The augmentation pipe. Per-image matrices are computed in float32 with the same operations in
// the same order as the official code, so that its discrete decisions come out the same: the
// reflect-pad margins are ceil()ed, and after a rotation by a multiple of 90 degrees the float32
// residue of sin/cos lifts a margin of exactly 6 pixels to 6.000001, hence 7.
#include "models/augment.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "autograd/autograd.h"
#include "ops/conv2d/conv2d.h"
#include "ops/elementwise/elementwise.h"
#include "ops/color_transform/color_transform.h"
#include "ops/grid_sample/grid_sample.h"
#include "ops/reduce/reduce.h"
#include "ops/reflect_pad/reflect_pad.h"
#include "ops/shape/shape.h"
#include "ops/upfirdn2d/upfirdn2d.h"
#include "ops/warp_upsampled/warp_upsampled.h"

namespace sg {

namespace {

// Low-pass decomposition filters of the sym2 and sym6 wavelets (Daubechies symlets).
const std::vector<double> kSym2 = {-0.12940952255092145, 0.22414386804185735, 0.836516303737469,
                                   0.48296291314469025};
const std::vector<double> kSym6 = {0.015404109327027373, 0.0034907120842174702, -0.11799011114819057,
                                   -0.048311742585633,   0.4910559419267466,    0.787641141030194,
                                   0.3379294217276218,   -0.07263752278646252,  -0.021060292512300564,
                                   0.04472490177066578,  0.0017677118642428036, -0.007800708325034148};
constexpr int kGeomPad = 3;            // sym6 taps / 4: the warp's border, in input pixels
constexpr int kMaxFeatureKey = 128;    // GGDR transforms feature maps up to this resolution only
constexpr float kPi = float(M_PI);     // float32 pi, as a float32 tensor times np.pi gives

using Mat3 = std::array<float, 9>;   // row-major
using Mat4 = std::array<float, 16>;

Mat3 mat3(float a, float b, float c, float d, float e, float f) { return {a, b, c, d, e, f, 0, 0, 1}; }
Mat3 translate2d(float tx, float ty) { return mat3(1, 0, tx, 0, 1, ty); }
Mat3 scale2d(float sx, float sy) { return mat3(sx, 0, 0, 0, sy, 0); }
Mat3 rotate2d(float theta) { return mat3(std::cos(theta), std::sin(-theta), 0, std::sin(theta), std::cos(theta), 0); }

Mat3 operator*(const Mat3& a, const Mat3& b) {
  Mat3 c{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) c[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
  return c;
}

Mat4 identity4() { return {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}; }

Mat4 operator*(const Mat4& a, const Mat4& b) {
  Mat4 c{};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      float s = 0;
      for (int k = 0; k < 4; ++k) s += a[4 * i + k] * b[4 * k + j];
      c[4 * i + j] = s;
    }
  return c;
}

// erf^-1 in double: Winitzki's closed form (relative error ~2e-3) refined by Newton steps.
double erfinv(double y) {
  if (y <= -1) return -std::numeric_limits<double>::infinity();
  if (y >= 1) return std::numeric_limits<double>::infinity();
  if (y == 0) return 0;
  const double a = 0.147, l = std::log((1 - y) * (1 + y)), b = 2 / (M_PI * a) + l / 2;
  double x = std::copysign(std::sqrt(std::sqrt(b * b - l / a) - b), y);
  for (int k = 0; k < 4; ++k) x -= (std::erf(x) - y) / (2 / std::sqrt(M_PI) * std::exp(-x * x));
  return x;
}
float erfinvf(float y) { return float(erfinv(y)); }


// The 4-band equaliser bank of the official image filter, from sym2: band 0 keeps the lowest
// octave, bands 1..3 pass successively lower octaves of the high-pass half-band filter.
std::vector<std::vector<double>> make_filter_bank() {
  auto convolve = [](const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> c(a.size() + b.size() - 1, 0.0);
    for (size_t i = 0; i < a.size(); ++i)
      for (size_t j = 0; j < b.size(); ++j) c[i + j] += a[i] * b[j];
    return c;
  };
  std::vector<double> lo = kSym2, hi = kSym2;
  for (size_t i = 1; i < hi.size(); i += 2) hi[i] = -hi[i];  // H(-z)
  std::vector<double> lo_rev(lo.rbegin(), lo.rend()), hi_rev(hi.rbegin(), hi.rend());
  std::vector<double> lo2 = convolve(lo, lo_rev), hi2 = convolve(hi, hi_rev);  // H(z) H(1/z), zero phase
  for (double& v : lo2) v /= 2;
  for (double& v : hi2) v /= 2;
  const size_t bands = 4;
  std::vector<std::vector<double>> bank(bands, std::vector<double>{0.0});
  bank[0][0] = 1;
  for (size_t i = 1; i < bands; ++i) {
    for (auto& row : bank) {
      // Dilate by 2 (a zero between taps), then smooth with the low-pass half-band filter.
      std::vector<double> dilated(2 * row.size() - 1, 0.0);
      for (size_t k = 0; k < row.size(); ++k) dilated[2 * k] = row[k];
      row = convolve(dilated, lo2);
    }
    size_t start = (bank[i].size() - hi2.size()) / 2;
    for (size_t k = 0; k < hi2.size(); ++k) bank[i][start + k] += hi2[k];
  }
  return bank;
}

// Per-image inverse transforms for one target (the images or one feature map) of size W x H.
struct GeomTarget {
  int64_t W, H;
  std::vector<Mat3> G;
};

// Executes the geometric transform of x [N, C, H, W] under G (output pixel -> input pixel,
// origin at the centre), as the official pipe: reflect pad to cover every corner's source,
// upsample 2x, warp with bilinear sampling, downsample 2x with the adjoint filter and crop.
Tensor warp(const Tensor& x, std::vector<Mat3> G, const Tensor& filter, bool bilinear_upsample) {
  int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const float cx = float((W - 1) / 2.0), cy = float((H - 1) / 2.0);
  const float corners[4][2] = {{-cx, -cy}, {cx, -cy}, {cx, cy}, {-cx, cy}};
  // How far beyond each edge [x0, y0, x1, y1] the sources of the output corners lie, plus room for
  // the filters; at most the image size less one, as reflect padding allows.
  float margin[4] = {-std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                     -std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
  for (const Mat3& g : G)
    for (const auto& c : corners) {
      float px = g[0] * c[0] + g[1] * c[1] + g[2] * 1.0f;
      float py = g[3] * c[0] + g[4] * c[1] + g[5] * 1.0f;
      margin[0] = std::max(margin[0], -px);
      margin[1] = std::max(margin[1], -py);
      margin[2] = std::max(margin[2], px);
      margin[3] = std::max(margin[3], py);
    }
  int m[4];
  for (int k = 0; k < 4; ++k) {
    bool is_x = k % 2 == 0;
    float v = margin[k] + float(kGeomPad * 2 - (is_x ? (W - 1) / 2.0 : (H - 1) / 2.0));
    v = std::min(std::max(v, 0.0f), float(is_x ? W - 1 : H - 1));
    m[k] = int(std::ceil(v));
  }
  const int mx0 = m[0], my0 = m[1], mx1 = m[2], my1 = m[3];

  const int64_t Ho = (H + 2 * kGeomPad) * 2, Wo = (W + 2 * kGeomPad) * 2;
  // Size of the padded map after the 2x upsampling.
  const double Hs = double(2 * (H + my0 + my1)), Ws = double(2 * (W + mx0 + mx1));
  const Mat3 shift = translate2d(float(mx0 - mx1) / 2.0f, float(my0 - my1) / 2.0f);
  const Mat3 to_norm = scale2d(float(2 / Ws), float(2 / Hs)), from_norm = scale2d(float(Wo / 2.0), float(Ho / 2.0));
  std::vector<double> theta;
  for (Mat3& g : G) {
    g = shift * g;
    g = (scale2d(2, 2) * g) * scale2d(0.5f, 0.5f);                  // to the upsampled pixel grid
    g = (translate2d(-0.5f, -0.5f) * g) * translate2d(0.5f, 0.5f);  // and its pixel centres
    g = (to_norm * g) * from_norm;                                  // to affine_grid's [-1, 1]
    theta.insert(theta.end(), g.begin(), g.begin() + 6);
  }
  Tensor th = Tensor::from_vector(theta, {N, 2, 3}, x.dtype(), x.device());
  Tensor y;
  // What needs no gradient (GGDR's feature maps; images in the discriminator's passes) takes one
  // fused pass instead of materialising the padded and upsampled maps (36x the input at most).
  // Images on their way to a gradient keep the differentiable composition.
  bool fused = !(grad_mode_enabled() && requires_grad(x)) && (bilinear_upsample || filter.dim() == 1) &&
               (x.dtype() == DType::Float32 || x.dtype() == DType::Float64);
  if (fused) {
    y = warp_upsampled(x, th, Pad4(mx0, mx1, my0, my1), Ho, Wo, bilinear_upsample ? Tensor() : filter);
  } else {
    y = reflect_pad(x, Pad4(mx0, mx1, my0, my1));
    y = bilinear_upsample ? upsample2x_bilinear(y) : upsample2d(y, filter, 2);
    y = grid_sample(y, affine_grid(th, {N, C, Ho, Wo}));
  }
  return downsample2d(y, filter, 2, Pad4(-kGeomPad * 2), /*flip_filter=*/true);
}

Tensor to_tensor(const std::vector<float>& v, const Shape& shape, const Tensor& like) {
  return Tensor::from_vector(std::vector<double>(v.begin(), v.end()), shape, like.dtype(), like.device());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Configuration.

namespace {

// Name -> member, for JSON keyword arguments and presets.
const std::vector<std::pair<const char*, double AugmentConfig::*>>& scalar_fields() {
  static const std::vector<std::pair<const char*, double AugmentConfig::*>> fields = {
      {"xflip", &AugmentConfig::xflip},
      {"rotate90", &AugmentConfig::rotate90},
      {"xint", &AugmentConfig::xint},
      {"xint_max", &AugmentConfig::xint_max},
      {"scale", &AugmentConfig::scale},
      {"rotate", &AugmentConfig::rotate},
      {"aniso", &AugmentConfig::aniso},
      {"xfrac", &AugmentConfig::xfrac},
      {"scale_std", &AugmentConfig::scale_std},
      {"rotate_max", &AugmentConfig::rotate_max},
      {"aniso_std", &AugmentConfig::aniso_std},
      {"xfrac_std", &AugmentConfig::xfrac_std},
      {"brightness", &AugmentConfig::brightness},
      {"contrast", &AugmentConfig::contrast},
      {"lumaflip", &AugmentConfig::lumaflip},
      {"hue", &AugmentConfig::hue},
      {"saturation", &AugmentConfig::saturation},
      {"brightness_std", &AugmentConfig::brightness_std},
      {"contrast_std", &AugmentConfig::contrast_std},
      {"hue_max", &AugmentConfig::hue_max},
      {"saturation_std", &AugmentConfig::saturation_std},
      {"imgfilter", &AugmentConfig::imgfilter},
      {"imgfilter_std", &AugmentConfig::imgfilter_std},
      {"noise", &AugmentConfig::noise},
      {"cutout", &AugmentConfig::cutout},
      {"noise_std", &AugmentConfig::noise_std},
      {"cutout_size", &AugmentConfig::cutout_size},
  };
  return fields;
}

}  // namespace

AugmentConfig AugmentConfig::from_json(const nlohmann::json& kwargs) {
  SG_CHECK(kwargs.is_object(), "AugmentConfig: expected a JSON object of keyword arguments, got ", kwargs.dump());
  AugmentConfig c;
  for (const auto& [key, value] : kwargs.items()) {
    if (key == "imgfilter_bands") {
      SG_CHECK(value.is_array() && value.size() == 4, "AugmentConfig: imgfilter_bands must list 4 numbers, got ",
               value.dump());
      c.imgfilter_bands = value.get<std::vector<double>>();
      continue;
    }
    const auto& fields = scalar_fields();
    auto it = std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return key == f.first; });
    SG_CHECK(it != fields.end(), "AugmentConfig: unknown augmentation argument '", key, "'");
    SG_CHECK(value.is_number(), "AugmentConfig: '", key, "' must be a number, got ", value.dump());
    c.*(it->second) = value.get<double>();
  }
  return c;
}

nlohmann::json AugmentConfig::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, member] : scalar_fields()) j[name] = this->*member;
  j["imgfilter_bands"] = imgfilter_bands;
  return j;
}

AugmentConfig AugmentConfig::preset(const std::string& name) {
  const std::vector<std::string> blit = {"xflip", "rotate90", "xint"};
  const std::vector<std::string> geom = {"scale", "rotate", "aniso", "xfrac"};
  const std::vector<std::string> color = {"brightness", "contrast", "lumaflip", "hue", "saturation"};
  const std::map<std::string, std::vector<std::vector<std::string>>> presets = {
      {"blit", {blit}},
      {"geom", {geom}},
      {"color", {color}},
      {"filter", {{"imgfilter"}}},
      {"noise", {{"noise"}}},
      {"cutout", {{"cutout"}}},
      {"bg", {blit, geom}},
      {"bgc", {blit, geom, color}},
      {"bgcf", {blit, geom, color, {"imgfilter"}}},
      {"bgcfn", {blit, geom, color, {"imgfilter"}, {"noise"}}},
      {"bgcfnc", {blit, geom, color, {"imgfilter"}, {"noise"}, {"cutout"}}},
  };
  auto it = presets.find(name);
  SG_CHECK(it != presets.end(), "AugmentConfig: unknown preset '", name,
           "' (expected blit, geom, color, filter, noise, cutout, bg, bgc, bgcf, bgcfn or bgcfnc)");
  nlohmann::json kwargs = nlohmann::json::object();
  for (const auto& group : it->second)
    for (const std::string& key : group) kwargs[key] = 1;
  return from_json(kwargs);
}

// ---------------------------------------------------------------------------------------------
// The pipe.

AugmentPipe::AugmentPipe(const AugmentConfig& config, RandomGenerator& rng) : config_(config), rng_(rng) {
  SG_CHECK(config.imgfilter_bands.size() == 4, "AugmentPipe: imgfilter_bands must have 4 entries, got ",
           config.imgfilter_bands.size());
  geom_filter_ = setup_filter(kSym6);
  std::vector<double> bank;
  for (const auto& row : make_filter_bank()) bank.insert(bank.end(), row.begin(), row.end());
  filter_bank_ = Tensor::from_vector(bank, {4, int64_t(bank.size() / 4)}, DType::Float32);
}

std::vector<float> AugmentPipe::uniform(int64_t n) {
  std::vector<double> v = rand({n}, rng_, DType::Float32, Device::CPU).to_vector();
  return std::vector<float>(v.begin(), v.end());
}

std::vector<float> AugmentPipe::normal(int64_t n) {
  std::vector<double> v = randn({n}, rng_, DType::Float32, Device::CPU).to_vector();
  return std::vector<float>(v.begin(), v.end());
}

Tensor AugmentPipe::forward(const Tensor& images, std::map<int, Tensor>* features) {
  SG_CHECK(images.dim() == 4 && images.size(0) > 0, "AugmentPipe: expected images [N, C, H, W] with N > 0, got ",
           shape_str(images.shape()));
  SG_CHECK(is_floating(images.dtype()), "AugmentPipe: expected floating images, got ", images.describe());
  const AugmentConfig& c = config_;
  const int64_t N = images.size(0), C = images.size(1), H = images.size(2), W = images.size(3);
  if (features)
    for (const auto& [key, f] : *features)
      SG_CHECK(f.dim() == 4 && f.size(0) == N && f.device() == images.device() && is_floating(f.dtype()),
               "AugmentPipe: feature map ", key, " must be [", N, ", C, H, W] floating on the images' device, got ",
               f.describe());
  SG_CHECK(c.imgfilter <= 0 || (H > 21 && W > 21), "AugmentPipe: imgfilter needs images larger than 21x21, got ",
           shape_str(images.shape()));
  const bool debug = debug_percentile.has_value();
  const float dp = debug ? float(*debug_percentile) : 0.0f;
  const float p_f = float(p);
  // Threshold of an augmentation's gate: multiplier * p in float32, as the official buffer math.
  auto threshold = [&](double multiplier) { return float(multiplier) * p_f; };

  // --- Geometric parameters: right-multiplied inverse transforms, one chain per target. ---
  std::vector<GeomTarget> targets = {{W, H, std::vector<Mat3>(size_t(N), scale2d(1, 1))}};
  std::vector<int> target_keys = {0};
  if (features)
    for (const auto& [key, f] : *features) {
      targets.push_back({f.size(3), f.size(2), std::vector<Mat3>(size_t(N), scale2d(1, 1))});
      target_keys.push_back(key);
    }
  auto apply = [&](const auto& make) {
    for (GeomTarget& t : targets)
      for (int64_t n = 0; n < N; ++n) t.G[size_t(n)] = t.G[size_t(n)] * make(t, size_t(n));
  };

  if (c.xflip > 0) {
    std::vector<float> i = uniform(N), gate = uniform(N);
    for (int64_t n = 0; n < N; ++n) {
      i[n] = gate[n] < threshold(c.xflip) ? std::floor(i[n] * 2.0f) : 0.0f;
      if (debug) i[n] = std::floor(dp * 2.0f);
    }
    apply([&](const GeomTarget&, size_t n) { return scale2d(1.0f / (1.0f - 2.0f * i[n]), 1.0f); });
  }
  if (c.rotate90 > 0) {
    std::vector<float> i = uniform(N), gate = uniform(N);
    for (int64_t n = 0; n < N; ++n) {
      i[n] = gate[n] < threshold(c.rotate90) ? std::floor(i[n] * 4.0f) : 0.0f;
      if (debug) i[n] = std::floor(dp * 4.0f);
    }
    apply([&](const GeomTarget&, size_t n) { return rotate2d(-(float(-M_PI / 2) * i[n])); });
  }
  if (c.xint > 0) {
    std::vector<float> t = uniform(2 * N), gate = uniform(N);
    for (int64_t n = 0; n < N; ++n)
      for (int k = 0; k < 2; ++k) {
        float& v = t[size_t(2 * n + k)];
        v = gate[n] < threshold(c.xint) ? (v * 2.0f - 1.0f) * float(c.xint_max) : 0.0f;
        if (debug) v = (dp * 2.0f - 1.0f) * float(c.xint_max);
      }
    // Integer translation at each target's own resolution (GGDR rounds at the feature size).
    apply([&](const GeomTarget& g, size_t n) {
      return translate2d(-std::nearbyint(t[2 * n] * float(g.W)), -std::nearbyint(t[2 * n + 1] * float(g.H)));
    });
  }
  if (c.scale > 0) {
    std::vector<float> s = normal(N), gate = uniform(N);
    for (int64_t n = 0; n < N; ++n) {
      s[n] = gate[n] < threshold(c.scale) ? std::exp2(s[n] * float(c.scale_std)) : 1.0f;
      if (debug) s[n] = std::exp2(erfinvf(dp * 2.0f - 1.0f) * float(c.scale_std));
    }
    apply([&](const GeomTarget&, size_t n) { return scale2d(1.0f / s[n], 1.0f / s[n]); });
  }
  // P(pre or post rotation) = rotate * p.
  const float p_rot = 1.0f - std::sqrt(std::clamp(1.0f - threshold(c.rotate), 0.0f, 1.0f));
  auto rotation = [&](bool post) {
    std::vector<float> theta = uniform(N), gate = uniform(N);
    for (int64_t n = 0; n < N; ++n) {
      theta[n] = gate[n] < p_rot ? (theta[n] * 2.0f - 1.0f) * kPi * float(c.rotate_max) : 0.0f;
      if (debug) theta[n] = post ? 0.0f : (dp * 2.0f - 1.0f) * kPi * float(c.rotate_max);
    }
    apply([&](const GeomTarget&, size_t n) { return rotate2d(theta[n]); });
  };
  if (c.rotate > 0) rotation(false);
  if (c.aniso > 0) {
    std::vector<float> s = normal(N), gate = uniform(N);
    for (int64_t n = 0; n < N; ++n) {
      s[n] = gate[n] < threshold(c.aniso) ? std::exp2(s[n] * float(c.aniso_std)) : 1.0f;
      if (debug) s[n] = std::exp2(erfinvf(dp * 2.0f - 1.0f) * float(c.aniso_std));
    }
    apply([&](const GeomTarget&, size_t n) { return scale2d(1.0f / s[n], 1.0f / (1.0f / s[n])); });
  }
  if (c.rotate > 0) rotation(true);
  if (c.xfrac > 0) {
    std::vector<float> t = normal(2 * N), gate = uniform(N);
    for (int64_t n = 0; n < N; ++n)
      for (int k = 0; k < 2; ++k) {
        float& v = t[size_t(2 * n + k)];
        v = gate[n] < threshold(c.xfrac) ? v * float(c.xfrac_std) : 0.0f;
        if (debug) v = erfinvf(dp * 2.0f - 1.0f) * float(c.xfrac_std);
      }
    apply([&](const GeomTarget& g, size_t n) {
      return translate2d(-(t[2 * n] * float(g.W)), -(t[2 * n + 1] * float(g.H)));
    });
  }

  Tensor x = images;
  if (c.any_geometric()) {
    x = warp(x, targets[0].G, geom_filter_, false);
    for (size_t k = 1; k < targets.size(); ++k) {
      int key = target_keys[k];
      if (key > kMaxFeatureKey) continue;
      Tensor& f = features->at(key);
      f = warp(f, targets[k].G, geom_filter_, true);
    }
  }

  // --- Color: left-multiplied 4x4 matrices acting on homogeneous RGB. ---
  Mat4 I4 = identity4();
  std::vector<Mat4> M(size_t(N), I4);
  bool color = false;
  auto left = [&](const auto& make) {
    color = true;
    for (int64_t n = 0; n < N; ++n) M[size_t(n)] = make(size_t(n)) * M[size_t(n)];
  };
  if (c.brightness > 0) {
    std::vector<float> b = normal(N), gate = uniform(N);
    for (int64_t n = 0; n < N; ++n) {
      b[n] = gate[n] < threshold(c.brightness) ? b[n] * float(c.brightness_std) : 0.0f;
      if (debug) b[n] = erfinvf(dp * 2.0f - 1.0f) * float(c.brightness_std);
    }
    left([&](size_t n) {
      Mat4 t = I4;
      t[3] = t[7] = t[11] = b[n];
      return t;
    });
  }
  if (c.contrast > 0) {
    std::vector<float> s = normal(N), gate = uniform(N);
    for (int64_t n = 0; n < N; ++n) {
      s[n] = gate[n] < threshold(c.contrast) ? std::exp2(s[n] * float(c.contrast_std)) : 1.0f;
      if (debug) s[n] = std::exp2(erfinvf(dp * 2.0f - 1.0f) * float(c.contrast_std));
    }
    left([&](size_t n) {
      Mat4 t = I4;
      t[0] = t[5] = t[10] = s[n];
      return t;
    });
  }
  // The luma axis v = [1, 1, 1, 0] / sqrt(3) and its projector v v^T.
  const float v[4] = {float(1 / std::sqrt(3.0)), float(1 / std::sqrt(3.0)), float(1 / std::sqrt(3.0)), 0.0f};
  Mat4 vv{};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) vv[size_t(4 * i + j)] = v[i] * v[j];
  if (c.lumaflip > 0) {
    std::vector<float> i = uniform(N), gate = uniform(N);
    for (int64_t n = 0; n < N; ++n) {
      i[n] = gate[n] < threshold(c.lumaflip) ? std::floor(i[n] * 2.0f) : 0.0f;
      if (debug) i[n] = std::floor(dp * 2.0f);
    }
    left([&](size_t n) {  // Householder reflection across the plane orthogonal to v
      Mat4 t;
      for (size_t k = 0; k < 16; ++k) t[k] = I4[k] - 2.0f * vv[k] * i[n];
      return t;
    });
  }
  if (c.hue > 0 && C > 1) {
    std::vector<float> theta = uniform(N), gate = uniform(N);
    for (int64_t n = 0; n < N; ++n) {
      theta[n] = gate[n] < threshold(c.hue) ? (theta[n] * 2.0f - 1.0f) * kPi * float(c.hue_max) : 0.0f;
      if (debug) theta[n] = (dp * 2.0f - 1.0f) * kPi * float(c.hue_max);
    }
    left([&](size_t n) {  // rotation by theta about v (Rodrigues)
      const float s = std::sin(theta[n]), co = std::cos(theta[n]), cc = 1.0f - co;
      const float x = v[0], y = v[1], z = v[2];
      return Mat4{x * x * cc + co,     x * y * cc - z * s, x * z * cc + y * s, 0,
                  y * x * cc + z * s, y * y * cc + co,     y * z * cc - x * s, 0,
                  z * x * cc - y * s, z * y * cc + x * s, z * z * cc + co,     0,
                  0,                  0,                  0,                  1};
    });
  }
  if (c.saturation > 0 && C > 1) {
    std::vector<float> s = normal(N), gate = uniform(N);
    for (int64_t n = 0; n < N; ++n) {
      s[n] = gate[n] < threshold(c.saturation) ? std::exp2(s[n] * float(c.saturation_std)) : 1.0f;
      if (debug) s[n] = std::exp2(erfinvf(dp * 2.0f - 1.0f) * float(c.saturation_std));
    }
    left([&](size_t n) {  // scale the chroma, keep the luma
      Mat4 t;
      for (size_t k = 0; k < 16; ++k) t[k] = vv[k] + (I4[k] - vv[k]) * s[n];
      return t;
    });
  }
  if (color) {
    SG_CHECK(C == 3 || C == 1, "AugmentPipe: color augmentation needs RGB (3 channels) or L (1 channel) images, got ",
             shape_str(images.shape()));
    // RGB: the 3x3 part and the offset column of each matrix. Grayscale: the mean of the RGB rows,
    // applied to the one channel.
    std::vector<float> matrix, offset;
    for (const Mat4& m : M) {
      if (C == 3) {
        for (int i = 0; i < 3; ++i) {
          matrix.insert(matrix.end(), {m[size_t(4 * i)], m[size_t(4 * i + 1)], m[size_t(4 * i + 2)]});
          offset.push_back(m[size_t(4 * i + 3)]);
        }
      } else {
        float row[4];
        for (int j = 0; j < 4; ++j) row[j] = (m[size_t(j)] + m[size_t(4 + j)] + m[size_t(8 + j)]) / 3.0f;
        matrix.push_back(row[0] + row[1] + row[2]);
        offset.push_back(row[3]);
      }
    }
    x = color_transform(x, to_tensor(matrix, {N, C, C}, x), to_tensor(offset, {N, C}, x));
  }

  // --- Image-space filtering: per-image gains of 4 frequency bands, power-normalised. ---
  if (c.imgfilter > 0) {
    const int64_t bands = filter_bank_.size(0), taps = filter_bank_.size(1);
    const float expected_power[4] = {float(10 / 13.0), float(1 / 13.0), float(1 / 13.0), float(1 / 13.0)};
    std::vector<float> g(size_t(N * bands), 1.0f);
    for (int64_t b = 0; b < bands; ++b) {
      const double strength = c.imgfilter_bands[size_t(b)];
      std::vector<float> t_b = normal(N), gate = uniform(N);
      for (int64_t n = 0; n < N; ++n) {
        t_b[n] = gate[n] < threshold(c.imgfilter) * float(strength) ? std::exp2(t_b[n] * float(c.imgfilter_std)) : 1.0f;
        if (debug) t_b[n] = strength > 0 ? std::exp2(erfinvf(dp * 2.0f - 1.0f) * float(c.imgfilter_std)) : 1.0f;
        float t[4] = {1, 1, 1, 1};
        t[b] = t_b[n];
        float power = 0;
        for (int k = 0; k < 4; ++k) power += expected_power[k] * (t[k] * t[k]);
        const float norm = std::sqrt(power);
        for (int k = 0; k < 4; ++k) g[size_t(n * bands + k)] *= t[k] / norm;
      }
    }
    std::vector<double> bank = filter_bank_.to_vector();
    std::vector<double> weights;  // [N * C, taps]: image n's filter for each of its channels
    for (int64_t n = 0; n < N; ++n) {
      std::vector<double> row(static_cast<size_t>(taps));
      for (int64_t k = 0; k < taps; ++k) {
        float s = 0;
        for (int64_t b = 0; b < bands; ++b) s += g[size_t(n * bands + b)] * float(bank[size_t(b * taps + k)]);
        row[size_t(k)] = s;
      }
      for (int64_t ch = 0; ch < C; ++ch) weights.insert(weights.end(), row.begin(), row.end());
    }
    const int pad = int(taps / 2), groups = int(N * C);
    Tensor w = Tensor::from_vector(weights, {N * C, 1, 1, taps}, x.dtype(), x.device());
    Tensor y = reflect_pad(reshape(x, {1, N * C, H, W}), Pad4(pad));
    y = conv2d(y, w, Tensor(), 1, 0, groups);
    y = conv2d(y, reshape(w, {N * C, 1, taps, 1}), Tensor(), 1, 0, groups);
    x = reshape(y, {N, C, H, W});
  }

  // --- Corruptions. ---
  if (c.noise > 0) {
    std::vector<float> sigma = normal(N), gate = uniform(N);
    for (int64_t n = 0; n < N; ++n) {
      sigma[n] = gate[n] < threshold(c.noise) ? std::fabs(sigma[n]) * float(c.noise_std) : 0.0f;
      if (debug) sigma[n] = erfinvf(dp) * float(c.noise_std);
    }
    DType draw = x.dtype() == DType::Float64 ? DType::Float64 : DType::Float32;
    Tensor noise = cast(randn({N, C, H, W}, rng_, draw, x.device()), x.dtype());
    x = x + noise * to_tensor(sigma, {N, 1, 1, 1}, x);
  }
  if (c.cutout > 0) {
    std::vector<float> gate = uniform(N), center = uniform(2 * N);
    std::vector<float> keep_x(size_t(N * W)), keep_y(size_t(N * H));
    for (int64_t n = 0; n < N; ++n) {
      float size = gate[n] < threshold(c.cutout) ? float(c.cutout_size) : 0.0f;
      float center_x = center[size_t(2 * n)], center_y = center[size_t(2 * n + 1)];
      if (debug) size = float(c.cutout_size), center_x = center_y = dp;
      // A pixel is kept when its centre lies outside the rectangle along x or along y.
      for (int64_t i = 0; i < W; ++i)
        keep_x[size_t(n * W + i)] = std::fabs((float(i) + 0.5f) / float(W) - center_x) >= size / 2.0f ? 1.0f : 0.0f;
      for (int64_t i = 0; i < H; ++i)
        keep_y[size_t(n * H + i)] = std::fabs((float(i) + 0.5f) / float(H) - center_y) >= size / 2.0f ? 1.0f : 0.0f;
    }
    x = x * maximum(to_tensor(keep_x, {N, 1, 1, W}, x), to_tensor(keep_y, {N, 1, H, 1}, x));
  }
  return x;
}

// ---------------------------------------------------------------------------------------------
// ADA controller.

AdaController::AdaController(double target, int interval, double kimg, int batch)
    : target_(target), kimg_(kimg), interval_(interval), batch_(batch),
      last_mean_(std::numeric_limits<double>::quiet_NaN()) {
  SG_CHECK(interval > 0 && kimg > 0 && batch > 0, "AdaController: interval, kimg and batch must be positive, got ",
           interval, ", ", kimg, ", ", batch);
}

void AdaController::accumulate(const std::vector<double>& signs) {
  for (double s : signs) sum_ += s;
  count_ += double(signs.size());
}

void AdaController::accumulate(const Tensor& signs) { accumulate(signs.to_vector()); }

double AdaController::update(double p) {
  if (count_ == 0) return p;
  last_mean_ = sum_ / count_;
  sum_ = count_ = 0;
  const double direction = last_mean_ > target_ ? 1.0 : last_mean_ < target_ ? -1.0 : 0.0;
  return std::max(p + direction * double(batch_) * interval_ / (kimg_ * 1000), 0.0);
}

nlohmann::json AdaController::state() const {
  nlohmann::json j = {{"sum", sum_}, {"count", count_}};
  if (!std::isnan(last_mean_)) j["last_mean"] = last_mean_;
  return j;
}

void AdaController::set_state(const nlohmann::json& state) {
  sum_ = state.at("sum");
  count_ = state.at("count");
  last_mean_ = state.contains("last_mean") ? state.at("last_mean").get<double>()
                                           : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace sg
