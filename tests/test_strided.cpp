// The index arithmetic shared by CPU loops and CUDA kernels (engine/strided.h): multiply-high
// division, layout coalescing and the 32-bit offset map, each against plain 64-bit arithmetic;
// and bias_act's channel index. The CUDA kernels run this same code, so a mistake here shows on
// the CPU.
#include <random>

#include "engine/strided.h"
#include "ops/bias_act/bias_act_math.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

StridedLayout layout_of(const Shape& sizes, const Shape& strides, int64_t offset = 0) {
  StridedLayout l;
  l.ndim = int(sizes.size());
  for (int d = 0; d < l.ndim; ++d) {
    l.sizes[d] = sizes[size_t(d)];
    l.strides[d] = strides[size_t(d)];
  }
  l.offset = offset;
  return l;
}

int64_t numel_of(const StridedLayout& l) {
  int64_t n = 1;
  for (int d = 0; d < l.ndim; ++d) n *= l.sizes[d];
  return n;
}

// Coalescing keeps every offset, the 32-bit map gives the same offsets, and for_each_offset
// visits them in order.
template <int K>
void check_layouts(const StridedLayout (&original)[K], int expected_ndim = -1) {
  StridedLayout coalesced[K];
  for (int k = 0; k < K; ++k) coalesced[k] = original[k];
  coalesce_layouts(coalesced, K);
  if (expected_ndim >= 0) CHECK(coalesced[0].ndim == expected_ndim);
  const int64_t n = numel_of(original[0]);
  REQUIRE(numel_of(coalesced[0]) == n);
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < K; ++k) REQUIRE(coalesced[k].offset_of(i) == original[k].offset_of(i));
  if (fits_index_map32(coalesced, K)) {
    const IndexMap32<K> map = make_index_map32<K>(coalesced);
    uint32_t got[K];
    for (int64_t i = 0; i < n; ++i) {
      map.offsets(uint32_t(i), got);
      for (int k = 0; k < K; ++k) REQUIRE(int64_t(got[k]) == original[k].offset_of(i) - original[k].offset);
    }
  }
  StridedLayout visited[K];
  for (int k = 0; k < K; ++k) visited[k] = original[k];
  int64_t next = 0;
  for_each_offset<K>(visited, n, [&](int64_t i, const int64_t* offsets) {
    REQUIRE(i == next++);
    for (int k = 0; k < K; ++k) REQUIRE(offsets[k] == original[k].offset_of(i) - original[k].offset);
  });
  CHECK(next == n);
}

}  // namespace

TEST_CASE("strided: multiply-high division equals integer division below 2^31") {
  std::mt19937 rng(7);
  std::vector<uint32_t> divisors = {1, 2, 3, 5, 6, 7, 9, 10, 25, 64, 100, 255, 256, 257, 4095, 4096, 4097, 65535,
                                    65536, 65537, 1000003, (1u << 30) - 1, 1u << 30, (1u << 30) + 1, (1u << 31) - 1};
  for (int k = 0; k < 200; ++k) divisors.push_back(1 + rng() % ((1u << 31) - 1));
  for (int k = 0; k < 200; ++k) divisors.push_back(1 + rng() % 5000);
  const uint32_t top = (1u << 31) - 1;
  for (uint32_t d : divisors) {
    const IndexDivider div(d);
    std::vector<uint32_t> numerators = {0, 1, top, top - 1, d - 1, d, std::min(top, d + 1)};
    for (uint32_t m : {2u, 3u, 1000u, 65536u})
      if (uint64_t(d) * m <= top) numerators.insert(numerators.end(), {d * m - 1, d * m, d * m + (d * m < top)});
    for (int k = 0; k < 200; ++k) numerators.push_back(rng() % (top + 1u));
    for (uint32_t n : numerators) {
      CAPTURE(d);
      CAPTURE(n);
      REQUIRE(div.div(n) == n / d);
    }
  }
  // Every numerator up to a bound for small divisors (the shapes of real tensors).
  for (uint32_t d = 1; d <= 64; ++d) {
    const IndexDivider div(d);
    for (uint32_t n = 0; n < 100000; ++n) REQUIRE(div.div(n) == n / d);
  }
}

TEST_CASE("strided: coalescing merges runs, drops size-1 dims and keeps every offset") {
  // Contiguous NCHW: one dim.
  check_layouts<1>({layout_of({2, 3, 4, 5}, {60, 20, 5, 1})}, 1);
  // NCHW times a [1, C, 1, 1] bias read at the output's shape: [N, C, H*W].
  check_layouts<2>({layout_of({2, 3, 4, 5}, {60, 20, 5, 1}), layout_of({2, 3, 4, 5}, {0, 1, 0, 0})}, 3);
  // Per-sample styles [N, C, 1, 1]: N and C merge for the style, H and W for both.
  check_layouts<2>({layout_of({2, 3, 4, 5}, {60, 20, 5, 1}), layout_of({2, 3, 4, 5}, {3, 1, 0, 0})}, 2);
  // NHWC read as NCHW (permuted): nothing merges but H and W.
  check_layouts<1>({layout_of({2, 3, 4, 5}, {60, 1, 15, 3})}, 3);
  // Size-1 dims vanish; a tensor of one element has no dims.
  check_layouts<1>({layout_of({1, 3, 1, 5}, {99, 5, 7, 1})}, 1);
  check_layouts<2>({layout_of({1, 1, 1}, {5, 3, 1}), layout_of({1, 1, 1}, {0, 0, 0})}, 0);
  // A sliced view (every other row) and an offset.
  check_layouts<2>({layout_of({3, 4, 6}, {48, 12, 1}, 7), layout_of({3, 4, 6}, {24, 6, 1})}, 2);
  // Three operands, one broadcast along rows, one along columns.
  check_layouts<3>({layout_of({4, 6}, {6, 1}), layout_of({4, 6}, {0, 1}), layout_of({4, 6}, {1, 0})}, 2);
  // Negative strides (a flipped view) take the 64-bit path and still coalesce where they can.
  StridedLayout flipped[1] = {layout_of({3, 4}, {-4, -1}, 11)};
  CHECK_FALSE(fits_index_map32(flipped, 1));
  check_layouts<1>({layout_of({3, 4}, {-4, -1}, 11)}, 1);
  check_layouts<1>({layout_of({3, 4}, {4, -1}, 3)}, 2);
}

TEST_CASE("strided: random views and broadcasts agree with 64-bit offsets") {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    const int ndim = 1 + int(rng() % 6);
    Shape sizes(size_t(ndim), 1);
    for (int64_t& s : sizes) s = 1 + int64_t(rng() % 5);
    StridedLayout layouts[3];
    for (StridedLayout& l : layouts) {
      // A permuted, possibly sliced contiguous buffer, with some dims broadcast.
      std::vector<int> order(static_cast<size_t>(ndim));
      for (int d = 0; d < ndim; ++d) order[size_t(d)] = d;
      std::shuffle(order.begin(), order.end(), rng);
      Shape strides(static_cast<size_t>(ndim));
      int64_t step = 1 + int64_t(rng() % 2);
      for (int d : order) {
        strides[size_t(d)] = step;
        step *= sizes[size_t(d)] + int64_t(rng() % 2);
      }
      for (int64_t& s : strides)
        if (rng() % 4 == 0) s = 0;
      l = layout_of(sizes, strides, int64_t(rng() % 3));
    }
    CAPTURE(trial);
    check_layouts<3>(layouts);
  }
}

TEST_CASE("strided: the 32-bit map is refused beyond 2^31 elements or offsets") {
  StridedLayout big[1] = {layout_of({1 << 16, 1 << 15}, {1 << 15, 1})};
  CHECK_FALSE(fits_index_map32(big, 1));
  StridedLayout far[1] = {layout_of({2, 2}, {int64_t(1) << 31, 1})};
  CHECK_FALSE(fits_index_map32(far, 1));
  StridedLayout edge[1] = {layout_of({(int64_t(1) << 31) - 1}, {1})};
  CHECK(fits_index_map32(edge, 1));
}

TEST_CASE("strided: bias_act's channel index in 32 and 64 bits") {
  for (int64_t stride : {1, 3, 4, 16, 49, 4096})
    for (int64_t channels : {1, 3, 512}) {
      BiasActParams p{Activation::Linear, 0, 0, 1, -1, stride * channels * 3, stride, channels};
      const BiasIndex narrow(p);
      p.n = int64_t(1) << 31;
      const BiasIndex wide(p);
      CHECK_FALSE(narrow.wide);
      CHECK(wide.wide);
      for (int64_t i = 0; i < stride * channels * 3; ++i) {
        REQUIRE(narrow(i) == (i / stride) % channels);
        REQUIRE(wide(i) == (i / stride) % channels);
      }
    }
}
