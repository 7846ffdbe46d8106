// The engine's Tensor: factories, raw views (reshape as a view or a copy, permute, transpose,
// narrow, expand, (un)squeeze, negative strides), contiguous(), dtype conversion (the float16 and
// bfloat16 rounding checked bit by bit), printing, item/to_vector, empty and 0-d tensors, and the
// caching allocator.
#include <cmath>
#include <cstring>
#include <sstream>

#include "engine/allocator.h"
#include "ops/elementwise/elementwise.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

const DType kAllDtypes[] = {DType::Float16, DType::BFloat16, DType::Float32, DType::Float64, DType::Int64, DType::UInt8};

float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace

TEST_CASE("tensor: factories give the asked shape, dtype, values and contiguous strides") {
  for (DType d : kAllDtypes) {
    CAPTURE(std::string(dtype_name(d)));
    Tensor z = Tensor::zeros({2, 3}, d);
    CHECK(z.shape() == Shape{2, 3});
    CHECK(z.strides() == Shape{3, 1});
    CHECK(z.dtype() == d);
    CHECK(z.device() == Device::CPU);
    CHECK(z.numel() == 6);
    CHECK(z.is_contiguous());
    CHECK(z.to_vector() == std::vector<double>(6, 0));
    CHECK(Tensor::ones({4}, d).to_vector() == std::vector<double>(4, 1));
    CHECK(Tensor::full({2, 2}, 7, d).to_vector() == std::vector<double>(4, 7));
    CHECK(Tensor::scalar(5, d).item() == 5);
    CHECK(Tensor::arange(5, d).to_vector() == std::vector<double>{0, 1, 2, 3, 4});
    CHECK(Tensor::from_vector({1, 2, 3, 4, 5, 6}, {3, 2}, d).to_vector() == std::vector<double>{1, 2, 3, 4, 5, 6});
    CHECK(Tensor::empty({2, 0, 3}, d).numel() == 0);
  }
  CHECK(Tensor::empty({4, 5, 6}).strides() == Shape{30, 6, 1});
  CHECK(Tensor::empty({4, 0, 6}).strides() == Shape{6, 6, 1});
  CHECK(Tensor::arange(0).numel() == 0);
  CHECK_FALSE(Tensor().defined());
  CHECK(Tensor().describe() == "undefined tensor");
}

TEST_CASE("tensor: reshape is a view when the strides allow it and a copy otherwise") {
  Tensor x = Tensor::arange(24, DType::Float64);
  Tensor v = raw::reshape(x, {2, 3, 4});
  CHECK(v.storage() == x.storage());
  CHECK(raw::reshape(x, {4, -1}).shape() == Shape{4, 6});

  // Permuted [4, 2, 3] with strides [1, 12, 4]: its last two dims still merge, and its first
  // splits, but all three do not.
  Tensor p = raw::permute(v, {2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(p.strides() == Shape{1, 12, 4});
  CHECK_FALSE(p.is_contiguous());
  Tensor merged = raw::reshape(p, {4, 6});
  CHECK(merged.storage() == x.storage());
  CHECK(merged.strides() == Shape{1, 4});
  CHECK(merged.to_vector() == raw::contiguous(p).to_vector());
  Tensor split = raw::reshape(p, {2, 2, 2, 3});
  CHECK(split.storage() == x.storage());
  CHECK(split.strides() == Shape{2, 1, 12, 4});
  Tensor flat = raw::reshape(p, {24});
  CHECK(flat.storage() != x.storage());
  CHECK(flat.is_contiguous());
  std::vector<double> expected;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 3; ++k) expected.push_back(j * 12 + k * 4 + i);
  CHECK(flat.to_vector() == expected);

  // Narrowed along the last dim: the leading dims merge (a view at the same offset), full flattening copies.
  Tensor n = raw::narrow(v, 2, 1, 2);
  CHECK(n.offset() == 1);
  Tensor n2 = raw::reshape(n, {6, 2});
  CHECK(n2.storage() == x.storage());
  CHECK(n2.offset() == 1);
  CHECK(n2.to_vector() == std::vector<double>{1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22});
  Tensor n3 = raw::reshape(n, {12});
  CHECK(n3.storage() != x.storage());
  CHECK(n3.to_vector() == n2.to_vector());
  CHECK(raw::reshape(n, {2, 3, 2, 1}).storage() == x.storage());
  // Narrowed along the first dim: still contiguous, a view with an offset.
  Tensor row = raw::reshape(raw::narrow(v, 0, 1, 1), {12});
  CHECK(row.storage() == x.storage());
  CHECK(row.offset() == 12);
  CHECK(row.to_vector()[0] == 12);

  // Broadcast (stride 0) dims can take size-1 dims around them but never merge.
  Tensor e = raw::expand(raw::unsqueeze(Tensor::arange(3, DType::Float64), 0), {2, 3});
  CHECK(raw::reshape(e, {2, 1, 3}).storage() == e.storage());
  Tensor e_flat = raw::reshape(e, {6});
  CHECK(e_flat.storage() != e.storage());
  CHECK(e_flat.to_vector() == std::vector<double>{0, 1, 2, 0, 1, 2});
}

TEST_CASE("tensor: permute, transpose, narrow, expand, unsqueeze and squeeze views") {
  Tensor x = raw::reshape(Tensor::arange(6, DType::Float64), {2, 3});
  Tensor t = raw::transpose(x, 0, 1);
  CHECK(t.shape() == Shape{3, 2});
  CHECK(t.strides() == Shape{1, 3});
  CHECK(t.storage() == x.storage());
  CHECK(t.to_vector() == std::vector<double>{0, 3, 1, 4, 2, 5});
  CHECK(raw::transpose(x, -1, -2).to_vector() == t.to_vector());

  Tensor y = raw::reshape(Tensor::arange(24, DType::Float64), {2, 3, 4});
  Tensor p = raw::permute(y, {1, -1, 0});
  CHECK(p.shape() == Shape{3, 4, 2});
  CHECK(p.to_vector()[1] == 12);  // p[0][0][1] = y[1][0][0]
  CHECK(raw::permute(p, {2, 0, 1}).to_vector() == y.to_vector());

  Tensor n = raw::narrow(y, 1, 1, 2);
  CHECK(n.shape() == Shape{2, 2, 4});
  CHECK(n.offset() == 4);
  CHECK(n.to_vector()[0] == 4);
  CHECK(n.to_vector()[8] == 16);
  CHECK(raw::narrow(y, -1, 3, 1).to_vector() == std::vector<double>{3, 7, 11, 15, 19, 23});
  CHECK(raw::narrow(y, 0, 2, 0).numel() == 0);

  Tensor col = Tensor::from_vector({1, 2}, {2, 1}, DType::Float64);
  Tensor e = raw::expand(col, {3, 2, 4});
  CHECK(e.strides() == Shape{0, 1, 0});
  CHECK(e.to_vector() == std::vector<double>{1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2});
  CHECK(raw::expand(col, {-1, 3}).shape() == Shape{2, 3});

  for (int64_t d : {0, 1, 2, -1, -3}) {
    CAPTURE(d);
    Tensor u = raw::unsqueeze(x, d);
    CHECK(u.dim() == 3);
    CHECK(u.size(d) == 1);
    CHECK(u.storage() == x.storage());
    CHECK(u.is_contiguous());
    CHECK(u.to_vector() == x.to_vector());
    CHECK(raw::squeeze(u, d).shape() == x.shape());
  }
  // unsqueeze of a transposed view keeps it a view with the right values.
  CHECK(raw::unsqueeze(t, 1).to_vector() == t.to_vector());
}

TEST_CASE("tensor: negative strides read in reverse, and contiguous() packs any view") {
  Tensor x = Tensor::arange(6, DType::Float64);
  Tensor reversed = x.as_strided({6}, {-1}, 5);
  CHECK_FALSE(reversed.is_contiguous());
  CHECK(reversed.to_vector() == std::vector<double>{5, 4, 3, 2, 1, 0});
  Tensor rows_flipped = x.as_strided({2, 3}, {-3, 1}, 3);
  CHECK(rows_flipped.to_vector() == std::vector<double>{3, 4, 5, 0, 1, 2});
  Tensor packed = raw::contiguous(rows_flipped);
  CHECK(packed.is_contiguous());
  CHECK(packed.storage() != x.storage());
  CHECK(packed.to_vector() == std::vector<double>{3, 4, 5, 0, 1, 2});
  CHECK(raw::reshape(rows_flipped, {6}).to_vector() == std::vector<double>{3, 4, 5, 0, 1, 2});
  CHECK(raw::reshape(rows_flipped, {2, 3, 1}).storage() == x.storage());
  // A negative-stride copy in both directions.
  Tensor target = Tensor::zeros({6}, DType::Float32);
  target.as_strided({6}, {-1}, 5).copy_(x);
  CHECK(target.to_vector() == std::vector<double>{5, 4, 3, 2, 1, 0});
  // contiguous() of a contiguous tensor is the tensor itself; of a view it is a fresh copy.
  CHECK(raw::contiguous(x).same(x));
  Tensor t = raw::transpose(raw::reshape(x, {2, 3}), 0, 1);
  CHECK_FALSE(t.is_contiguous());
  CHECK(raw::contiguous(t).to_vector() == std::vector<double>{0, 3, 1, 4, 2, 5});
  // Size-1 dims do not break contiguity, whatever their stride.
  CHECK(x.as_strided({1, 6}, {100, 1}, 0).is_contiguous());
  CHECK(raw::clone(x).storage() != x.storage());
}

TEST_CASE("tensor: copy_ and fill_ write through strided views") {
  Tensor x = Tensor::zeros({3, 4}, DType::Float64);
  raw::narrow(x, 1, 1, 2).fill_(5);
  CHECK(x.to_vector() == std::vector<double>{0, 5, 5, 0, 0, 5, 5, 0, 0, 5, 5, 0});
  raw::transpose(x, 0, 1).copy_(raw::reshape(Tensor::arange(12, DType::Float32), {4, 3}));
  CHECK(x.to_vector() == std::vector<double>{0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11});
  CHECK_THROWS_WITH_ALL(x.copy_(Tensor::zeros({4, 3})), "copy_", "[3, 4]", "[4, 3]");
  Tensor e = Tensor::zeros({0, 4});
  e.copy_(Tensor::ones({0, 4}, DType::Float16));
  e.fill_(1);
  CHECK(e.numel() == 0);
}

TEST_CASE("tensor: to(dtype) converts between every pair of dtypes") {
  // Values exact in every dtype (bfloat16 holds integers up to 256 exactly).
  std::vector<double> v = {0, 1, 2, 3, 100, 255};
  for (DType from : kAllDtypes) {
    for (DType to : kAllDtypes) {
      CAPTURE(std::string(dtype_name(from)));
      CAPTURE(std::string(dtype_name(to)));
      Tensor x = Tensor::from_vector(v, {2, 3}, from);
      Tensor y = raw::to(x, to, Device::CPU);
      CHECK(y.dtype() == to);
      CHECK(y.shape() == Shape{2, 3});
      CHECK(y.to_vector() == v);
      // Through a transposed view: the conversion follows the logical order.
      Tensor yt = raw::to(raw::transpose(x, 0, 1), to, Device::CPU);
      CHECK(yt.to_vector() == std::vector<double>{0, 3, 1, 100, 2, 255});
      if (from == to) CHECK(y.same(x));
    }
  }
  // Floating to integer truncates toward zero, as a C++ (and torch) cast.
  CHECK(Tensor::from_vector({2.7, -2.7, 0.5}, {3}, DType::Int64).to_vector() == std::vector<double>{2, -2, 0});
  CHECK(Tensor::from_vector({2.7, 254.9}, {2}, DType::UInt8).to_vector() == std::vector<double>{2, 254});
  // Float64 to float32 rounds to nearest.
  CHECK(Tensor::from_vector({0.1}, {1}, DType::Float32).item() == double(0.1f));
}

TEST_CASE("tensor: float16 conversion matches known bit patterns") {
  struct Case {
    float value;
    uint16_t bits;
  };
  const float tiny = std::ldexp(1.0f, -24);  // the smallest float16 subnormal
  const Case cases[] = {
      {0.0f, 0x0000},
      {-0.0f, 0x8000},
      {1.0f, 0x3c00},
      {-2.0f, 0xc000},
      {0.5f, 0x3800},
      {0.1f, 0x2e66},
      {1.0f / 3, 0x3555},
      {65504.0f, 0x7bff},                      // the largest finite half
      {65519.99f, 0x7bff},                     // just under the midpoint to 65536
      {65520.0f, 0x7c00},                      // the midpoint rounds to even: past the largest, inf
      {1e6f, 0x7c00},                          // overflow
      {-1e6f, 0xfc00},
      {INFINITY, 0x7c00},
      {-INFINITY, 0xfc00},
      {std::ldexp(1.0f, -14), 0x0400},         // the smallest normal
      {tiny, 0x0001},
      {-tiny, 0x8001},
      {1023 * tiny, 0x03ff},                   // the largest subnormal
      {tiny / 2, 0x0000},                      // a tie between 0 and the smallest subnormal: to even
      {tiny / 2 * 1.0001f, 0x0001},
      {3 * tiny / 2, 0x0002},                  // a tie between 1 and 2 ulps: to even
      {5 * tiny / 2, 0x0002},                  // a tie between 2 and 3 ulps: to even
      {std::ldexp(1.0f, -30), 0x0000},         // underflow to zero
      {1.0f + std::ldexp(1.0f, -11), 0x3c00},  // a tie at 1: to even
      {1.0f + 3 * std::ldexp(1.0f, -11), 0x3c02},
      {1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20), 0x3c01},
      {2047.5f, 0x6800},                       // 2047.5 ties between 2047 and 2048: to even (2048)
  };
  for (const Case& c : cases) {
    CAPTURE(c.value);
    CHECK(float_to_half(c.value).bits == c.bits);
  }
  CHECK(half_to_float(Half{0x7bff}) == 65504.0f);
  CHECK(half_to_float(Half{0x0001}) == tiny);
  CHECK(half_to_float(Half{0x8001}) == -tiny);
  CHECK(half_to_float(Half{0x03ff}) == 1023 * tiny);
  CHECK(half_to_float(Half{0x0400}) == std::ldexp(1.0f, -14));
  CHECK(half_to_float(Half{0x3555}) == 0.333251953125f);
  CHECK(half_to_float(Half{0x7c00}) == INFINITY);
  CHECK(half_to_float(Half{0xfc00}) == -INFINITY);
  CHECK(std::signbit(half_to_float(Half{0x8000})));
  CHECK(std::isnan(half_to_float(Half{0x7e00})));
  CHECK(std::isnan(half_to_float(Half{0x7c01})));
  // NaN stays NaN, also a signalling NaN whose payload sits in bits float16 does not keep.
  for (uint32_t nan_bits : {0x7fc00000u, 0x7f800001u, 0xffc00000u}) {
    Half h = float_to_half(bits_to_float(nan_bits));
    CHECK((h.bits & 0x7c00) == 0x7c00);
    CHECK((h.bits & 0x03ff) != 0);
  }
}

TEST_CASE("tensor: float16 rounding is round-to-nearest-even at every boundary") {
  // For every pair of adjacent finite halves: both round-trip, their midpoint goes to the even one,
  // and the floats just either side of the midpoint go to the nearer one. Both signs.
  int64_t failures = 0;
  uint32_t first_bad = 0;
  for (uint32_t h = 0; h < 0x7bff; ++h) {
    for (uint16_t sign : {uint16_t(0), uint16_t(0x8000)}) {
      uint16_t lo = uint16_t(h | sign), hi = uint16_t((h + 1) | sign);
      float a = half_to_float(Half{lo}), b = half_to_float(Half{hi});
      float mid = (a + b) / 2;  // exact: halves carry 11 significant bits, floats 24
      uint16_t even = (h & 1) ? hi : lo;
      bool ok = float_to_half(a).bits == lo && float_to_half(b).bits == hi && float_to_half(mid).bits == even &&
                float_to_half(std::nextafter(mid, a)).bits == lo && float_to_half(std::nextafter(mid, b)).bits == hi;
      if (!ok && failures++ == 0) first_bad = lo;
    }
  }
  CHECK_MESSAGE(failures == 0, failures, " boundaries round wrongly, first at half bits ", first_bad);
}

TEST_CASE("tensor: bfloat16 conversion rounds to nearest even and keeps NaN") {
  CHECK(float_to_bfloat16(1.0f).bits == 0x3f80);
  CHECK(float_to_bfloat16(-2.0f).bits == 0xc000);
  CHECK(float_to_bfloat16(bits_to_float(0x3f808000)).bits == 0x3f80);  // tie: to even
  CHECK(float_to_bfloat16(bits_to_float(0x3f818000)).bits == 0x3f82);  // tie: to even (up)
  CHECK(float_to_bfloat16(bits_to_float(0x3f808001)).bits == 0x3f81);
  CHECK(float_to_bfloat16(bits_to_float(0x7f7fffff)).bits == 0x7f80);  // the largest float rounds to inf
  CHECK(float_to_bfloat16(INFINITY).bits == 0x7f80);
  CHECK(float_to_bfloat16(-INFINITY).bits == 0xff80);
  CHECK(float_to_bfloat16(bits_to_float(0x00000001)).bits == 0x0000);  // float subnormals round too
  CHECK(float_to_bfloat16(bits_to_float(0x00018000)).bits == 0x0002);
  for (uint32_t nan_bits : {0x7fc00000u, 0x7f800001u, 0xff800001u}) {
    BFloat16 b = float_to_bfloat16(bits_to_float(nan_bits));
    CHECK(std::isnan(bfloat16_to_float(b)));
  }
  CHECK(bfloat16_to_float(BFloat16{0x3f80}) == 1.0f);
  CHECK(bfloat16_to_float(BFloat16{0x4049}) == 3.140625f);
  int64_t failures = 0;
  for (uint32_t b = 0; b < 0x7f80; ++b) {
    float mid = bits_to_float((b << 16) | 0x8000);
    uint16_t even = uint16_t((b & 1) ? b + 1 : b);
    bool ok = float_to_bfloat16(bits_to_float(b << 16)).bits == b && float_to_bfloat16(mid).bits == even &&
              float_to_bfloat16(bits_to_float((b << 16) | 0x7fff)).bits == b &&
              float_to_bfloat16(bits_to_float((b << 16) | 0x8001)).bits == b + 1;
    failures += !ok;
  }
  CHECK(failures == 0);
  // Through tensors.
  Tensor x = Tensor::from_vector({0.1, -3.75, 1e5, 65520}, {4}, DType::Float16);
  std::vector<double> v = x.to_vector();
  CHECK(v[0] == 0.0999755859375);
  CHECK(v[1] == -3.75);
  CHECK(std::isinf(v[2]));
  CHECK(std::isinf(v[3]));
  CHECK(Tensor::from_vector({1.00390625}, {1}, DType::BFloat16).item() == 1.0);  // 1 + 2^-8: a tie to even
}

TEST_CASE("tensor: printing") {
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(x.describe() == "float32[2, 3] on cpu");
  CHECK(x.to_string() == "float32[2, 3] on cpu\n[[1, 2, 3],\n[4, 5, 6]]");
  CHECK(Tensor::scalar(2.5, DType::Float64).to_string() == "float64[] on cpu\n2.5");
  CHECK(Tensor::zeros({0, 3}, DType::Int64).to_string() == "int64[0, 3] on cpu\n");
  CHECK(Tensor::arange(10).to_string() == "float32[10] on cpu\n[0, 1, 2, ..., 7, 8, 9]");
  CHECK(Tensor::arange(10).to_string(4) == "float32[10] on cpu\n[0, 1, ..., 8, 9]");
  // Any limit prints something sensible without reading outside the tensor.
  CHECK(Tensor::arange(3).to_string(1) == "float32[3] on cpu\n[0, ..., 2]");
  CHECK(Tensor::arange(3).to_string(0) == "float32[3] on cpu\n[0, ..., 2]");
  CHECK(raw::transpose(x, 0, 1).to_string() == "float32[3, 2] on cpu\n[[1, 4],\n[2, 5],\n[3, 6]]");
  CHECK(Tensor::ones({1}, DType::Float16).describe() == "float16[1] on cpu");
  CHECK(Tensor::ones({1}, DType::BFloat16).describe() == "bfloat16[1] on cpu");
  CHECK(Tensor::ones({1}, DType::UInt8).describe() == "uint8[1] on cpu");
  std::ostringstream out;
  out << x;
  CHECK(out.str() == x.describe());
}

TEST_CASE("tensor: item and to_vector") {
  CHECK(Tensor::from_vector({5}, {1, 1}).item() == 5);
  CHECK(Tensor::scalar(-1.5, DType::Float16).item() == -1.5);
  CHECK_THROWS_WITH_ALL(Tensor::zeros({2}).item(), "item", "one element", "[2]");
  CHECK_THROWS_WITH_ALL(Tensor::zeros({0}).item(), "item", "[0]");
  Tensor big = Tensor::empty({1}, DType::Int64);
  big.data<int64_t>()[0] = int64_t(1) << 40;
  CHECK(big.item() == std::ldexp(1.0, 40));
  CHECK(Tensor::zeros({0, 5}).to_vector().empty());
  CHECK_THROWS_WITH_ALL(Tensor::zeros({2}).data<double>(), "data<float64>", "float32");
}

TEST_CASE("tensor: empty tensors go through every view and conversion") {
  Tensor e = Tensor::zeros({0, 3});
  CHECK(e.numel() == 0);
  CHECK(e.is_contiguous());
  CHECK(raw::reshape(e, {3, 0}).shape() == Shape{3, 0});
  CHECK(raw::reshape(e, {-1, 3}).shape() == Shape{0, 3});
  CHECK(raw::transpose(e, 0, 1).shape() == Shape{3, 0});
  CHECK(raw::contiguous(raw::transpose(e, 0, 1)).numel() == 0);
  CHECK(raw::expand(raw::unsqueeze(e, 0), {4, 0, 3}).numel() == 0);
  CHECK(raw::to(e, DType::Float16, Device::CPU).shape() == Shape{0, 3});
  CHECK(raw::narrow(e, 1, 1, 2).shape() == Shape{0, 2});
  CHECK(raw::clone(e).numel() == 0);
}

TEST_CASE("tensor: 0-d tensors") {
  Tensor s = Tensor::scalar(3, DType::Float64);
  CHECK(s.dim() == 0);
  CHECK(s.shape().empty());
  CHECK(s.numel() == 1);
  CHECK(s.is_contiguous());
  CHECK(s.item() == 3);
  CHECK(s.to_vector() == std::vector<double>{3});
  CHECK(raw::reshape(s, {1, 1}).shape() == Shape{1, 1});
  CHECK(raw::reshape(raw::reshape(s, {1, 1}), {}).dim() == 0);
  CHECK(raw::unsqueeze(s, 0).shape() == Shape{1});
  CHECK(raw::squeeze(raw::unsqueeze(s, -1), 0).dim() == 0);
  CHECK(raw::expand(s, {2, 3}).to_vector() == std::vector<double>(6, 3));
  CHECK(raw::permute(s, {}).item() == 3);
  CHECK(raw::to(s, DType::Float16, Device::CPU).item() == 3);
  // A 0-d tensor has no dim 0: asking for one is an error, never a read past the shape.
  CHECK_THROWS_WITH_ALL(s.size(0), "size", "dim 0 out of range", "0 dims");
  CHECK_THROWS_WITH_ALL(s.stride(-1), "stride", "out of range");
  CHECK_THROWS_WITH_ALL(raw::narrow(s, 0, 0, 1), "narrow", "out of range");
  CHECK_THROWS_WITH_ALL(raw::squeeze(s, 0), "squeeze", "out of range");
}

TEST_CASE("allocator: size classes") {
  CHECK(cuda_size_class(0) == 512);
  CHECK(cuda_size_class(1) == 512);
  CHECK(cuda_size_class(512) == 512);
  CHECK(cuda_size_class(513) == 1024);
  CHECK(cuda_size_class(size_t(1) << 20) == size_t(1) << 20);
  CHECK(cuda_size_class((size_t(1) << 20) + 1) == size_t(2) << 20);
  CHECK(cuda_size_class(size_t(2) << 20) == size_t(2) << 20);
  CHECK(cuda_size_class((size_t(2) << 20) + 1) == size_t(4) << 20);
  CHECK(cuda_size_class(size_t(5) << 20) == size_t(6) << 20);
  // Every request fits its class, classes never shrink, and the waste is under one step.
  size_t previous = 0;
  for (size_t n = 1; n < (size_t(8) << 20); n = n * 5 / 4 + 7) {
    size_t c = cuda_size_class(n);
    size_t step = n <= (size_t(1) << 20) ? 512 : size_t(2) << 20;
    CHECK(c >= n);
    CHECK(c - n < step);
    CHECK(c >= previous);
    previous = c;
  }
  // CPU tensors come from the same classes, aligned for vector loads.
  for (int64_t n : {1, 3, 100, 1000, 300000}) {
    Tensor t = Tensor::empty({n}, DType::Float32);
    CHECK(reinterpret_cast<uintptr_t>(t.data_ptr()) % 64 == 0);
  }
}

TEST_CASE("allocator: CUDA blocks are cached per size class and reused") {
  SG_REQUIRE_CUDA();
  cuda_allocator_empty_cache();
  const size_t block = cuda_size_class(size_t(1) << 20);  // 1 MiB, a class of its own
  AllocatorStats s0 = cuda_allocator_stats();
  CHECK(s0.reserved_bytes == s0.allocated_bytes);  // nothing cached after empty_cache
  {
    Tensor a = Tensor::empty({1 << 18}, DType::Float32, Device::CUDA);  // 1 MiB
    AllocatorStats s1 = cuda_allocator_stats();
    CHECK(s1.cuda_malloc_calls == s0.cuda_malloc_calls + 1);
    CHECK(s1.allocated_bytes == s0.allocated_bytes + block);
    CHECK(s1.reserved_bytes == s0.reserved_bytes + block);
    CHECK(s1.peak_allocated_bytes >= s1.allocated_bytes);
  }
  AllocatorStats s2 = cuda_allocator_stats();
  CHECK(s2.allocated_bytes == s0.allocated_bytes);
  CHECK(s2.reserved_bytes == s0.reserved_bytes + block);  // freed into the cache, not to the driver
  {
    // A request of the same class (a few bytes smaller) reuses the cached block.
    Tensor b = Tensor::empty({(1 << 18) - 3}, DType::Float32, Device::CUDA);
    AllocatorStats s3 = cuda_allocator_stats();
    CHECK(s3.cuda_malloc_calls == s2.cuda_malloc_calls);
    CHECK(s3.cache_hits == s2.cache_hits + 1);
    CHECK(s3.reserved_bytes == s2.reserved_bytes);
    // Another class does not take it.
    Tensor c = Tensor::empty({1 << 20}, DType::Float32, Device::CUDA);  // 4 MiB
    CHECK(cuda_allocator_stats().cuda_malloc_calls == s2.cuda_malloc_calls + 1);
  }
  // The peak follows the high-water mark since the last reset.
  cuda_allocator_reset_peak();
  AllocatorStats s4 = cuda_allocator_stats();
  CHECK(s4.peak_allocated_bytes == s4.allocated_bytes);
  {
    Tensor big = Tensor::empty({int64_t(1) << 22}, DType::Float32, Device::CUDA);  // 16 MiB
    CHECK(cuda_allocator_stats().peak_allocated_bytes == s4.allocated_bytes + (size_t(16) << 20));
  }
  AllocatorStats s5 = cuda_allocator_stats();
  CHECK(s5.allocated_bytes == s4.allocated_bytes);
  CHECK(s5.peak_allocated_bytes == s4.allocated_bytes + (size_t(16) << 20));
  // empty_cache hands every cached block back; the next request goes to the driver again.
  cuda_allocator_empty_cache();
  AllocatorStats s6 = cuda_allocator_stats();
  CHECK(s6.reserved_bytes == s6.allocated_bytes);
  CHECK(s6.reserved_bytes < s5.reserved_bytes);
  { Tensor again = Tensor::empty({1 << 18}, DType::Float32, Device::CUDA); }
  CHECK(cuda_allocator_stats().cuda_malloc_calls == s6.cuda_malloc_calls + 1);
}

TEST_CASE("tensor: CUDA copies, conversions and strided views match the CPU") {
  SG_REQUIRE_CUDA();
  Tensor x = raw::reshape(Tensor::arange(24, DType::Float64), {2, 3, 4});
  for (DType from : kAllDtypes) {
    for (DType to : kAllDtypes) {
      CAPTURE(std::string(dtype_name(from)));
      CAPTURE(std::string(dtype_name(to)));
      Tensor src = raw::to(x, from, Device::CUDA);
      CHECK(src.is_cuda());
      Tensor converted = raw::to(raw::permute(src, {2, 0, 1}), to, Device::CUDA);
      CHECK(converted.dtype() == to);
      CHECK(converted.to_vector() == raw::contiguous(raw::permute(x, {2, 0, 1})).to_vector());
      // Contiguous conversions (whole packs and a tail), and from a view one element in (unaligned).
      std::vector<double> want(1001);
      for (size_t i = 0; i < want.size(); ++i) want[i] = double(i % 200);
      Tensor values = Tensor::from_vector(want, {1001}, from, Device::CUDA);
      CHECK(raw::to(values, to, Device::CUDA).to_vector() == want);
      CHECK(raw::to(raw::narrow(values, 0, 1, 1000), to, Device::CUDA).to_vector() ==
            std::vector<double>(want.begin() + 1, want.end()));
    }
  }
  // float16/bfloat16 rounding on the device equals the host's bit for bit.
  Tensor values = Tensor::from_vector({0.1, 65519.99, 65520, 1e-8, 3e-8, -2.5e-7, 1.0009765625, 1.00048828125, 1e6,
                                       0.33333333},
                                      {10}, DType::Float32);
  for (DType half : {DType::Float16, DType::BFloat16}) {
    Tensor on_host = raw::to(values, half, Device::CPU);
    Tensor on_device = raw::to(raw::to(values, DType::Float32, Device::CUDA), half, Device::CUDA);
    Tensor back = raw::to(on_device, half, Device::CPU);
    CHECK(std::memcmp(back.data_ptr(), on_host.data_ptr(), 20) == 0);
  }
  // Writes through a negative-stride view and a broadcast source on the device.
  Tensor dst = Tensor::zeros({6}, DType::Float32, Device::CUDA);
  dst.as_strided({6}, {-1}, 5).copy_(Tensor::arange(6, DType::Float32, Device::CUDA));
  CHECK(dst.to_vector() == std::vector<double>{5, 4, 3, 2, 1, 0});
  Tensor filled = Tensor::zeros({3, 4}, DType::Float16, Device::CUDA);
  raw::narrow(filled, 1, 1, 2).fill_(2);
  CHECK(filled.to_vector() == std::vector<double>{0, 2, 2, 0, 0, 2, 2, 0, 0, 2, 2, 0});
  CHECK(Tensor::scalar(4, DType::Float32, Device::CUDA).describe() == "float32[] on cuda");
  CHECK(Tensor::zeros({0, 3}, DType::Float32, Device::CUDA).to_vector().empty());
}

TEST_CASE("tensor: small uploads do not wait for the GPU and keep their values through the pinned ring") {
  SG_REQUIRE_CUDA();
  // More uploads than the ring has slots, each consumed by a kernel queued behind the previous
  // ones, so a slot overwritten before its transfer ran would show up as a wrong sum.
  Tensor acc = Tensor::zeros({1000}, DType::Float32, Device::CUDA);
  double expected = 0;
  for (int i = 0; i < 100; ++i) {
    std::vector<double> values(1000, double(i));
    Tensor up = Tensor::from_vector(values, {1000}, DType::Float32, Device::CUDA);
    acc = add(acc, up);
    expected += i;
  }
  for (double v : acc.to_vector()) REQUIRE(v == expected);
  // Above the ring's slot size the copy takes the waiting path; the values are the same.
  std::vector<double> big(size_t(kAsyncUploadBytes / 4 + 1), 3.0);
  Tensor b = Tensor::from_vector(big, {int64_t(big.size())}, DType::Float32, Device::CUDA);
  CHECK(b.to_vector() == big);
}
