// CUDA kernels of upfirdn2d. Every kernel reads x through its strides, writes a contiguous
// output, and takes f in the compute precision with the gain folded in.
//   upfirdn2d_tiled:     2-D filters. A block computes a 32 x (8 * R) output tile for each of a
//                        range of channel planes from the input window that the tile needs,
//                        staged in shared memory (zero outside the image) with batched loads. A
//                        thread owns one output column and a run of R rows that share their
//                        polyphase phase: its taps form a fixed K x K sub-filter held in
//                        registers, and consecutive outputs of the run start S input rows apart,
//                        so each window row is read once into registers and feeds every output
//                        of the run that uses it.
//   upfirdn2d_separable: 1-D filters, both passes fused on the same staged window: the horizontal
//                        pass writes a shared buffer of 32 output columns, the vertical pass
//                        reads it.
//   upfirdn2d_direct:    one thread per output reading global memory. The oracle of the other two
//                        and the fallback for what they do not cover (large filters or factors).
// Polyphase indexing, per axis: output o places correlation tap 0 at upsampled position
// s = o * down - pad0. The first tap on a real sample is k0 = floor_mod(-s, up) and reads input
// (s + k0) / up; each next real tap is up taps later and reads the next input.
#include <algorithm>
#include <cstdint>
#include <numeric>

#include "engine/cuda_check.h"
#include "engine/cuda_types.cuh"
#include "engine/nvtx.h"
#include "ops/upfirdn2d/upfirdn2d.h"

namespace sg {

namespace {

constexpr int kBlockX = 32, kBlockY = 8, kThreads = kBlockX * kBlockY;
constexpr int kSeparableRows = 4;  // output rows per thread in upfirdn2d_separable
constexpr int kLoadBatch = 4;  // global loads a thread issues before it stores any to shared memory
constexpr size_t kMaxSharedBytes = 48 * 1024;
constexpr int kBlocksPerSmTarget = 32;  // resident blocks per SM x a few waves
// Outputs per thread's run in upfirdn2d_tiled by tap bucket K (2, 4, 8), and for short planes.
constexpr int kRunK2 = 16, kRunK4 = 8, kRunK8 = 4, kRunShort = 2;

__host__ __device__ inline int floor_div(int a, int b) { return (a >= 0 ? a : a - b + 1) / b; }
__host__ __device__ inline int floor_mod(int a, int b) { return a - floor_div(a, b) * b; }

struct Phase {
  int tap0;  // first correlation tap that lands on a real sample
  int in0;   // the input it reads
};
__host__ __device__ inline Phase phase_of(int o, int down, int pad0, int up) {
  int s = o * down - pad0;
  int k0 = floor_mod(-s, up);
  return {k0, (s + k0) / up};  // exact: s + k0 is a multiple of up
}

// Correlation-oriented tap k of an n-tap axis (flip_filter = false convolves: taps reversed).
__host__ __device__ inline int corr_tap(int k, int n, bool flip) { return flip ? k : n - 1 - k; }

// The input window [x0, x0 + w) x [y0, y0 + h) read by output columns [ox0, ox0 + tile_w) and rows
// [oy0, oy0 + tile_h) when each output reads `taps` consecutive inputs per axis from its in0.
struct Window {
  int x0, y0, w, h;
  float inv_w;  // 1 / w
};
__device__ inline Window window_of(const UpFirDnParams& p, int ox0, int oy0, int tile_w, int tile_h, int taps) {
  int x0 = phase_of(ox0, p.down_x, p.pad_x0, p.up_x).in0;
  int y0 = phase_of(oy0, p.down_y, p.pad_y0, p.up_y).in0;
  int x1 = phase_of(ox0 + tile_w - 1, p.down_x, p.pad_x0, p.up_x).in0 + taps;
  int y1 = phase_of(oy0 + tile_h - 1, p.down_y, p.pad_y0, p.up_y).in0 + taps;
  return {x0, y0, x1 - x0, y1 - y0, 1.0f / float(x1 - x0)};
}
// A bound on the window's extent along an axis for any tile position: the in0 of the last of
// `tile` outputs is at most ceil((tile - 1) * down / up) after the first's.
inline int window_bound(int tile, int down, int up, int taps) { return (tile - 1) * down / up + 1 + taps; }

// The channel planes [first, last) that block z handles, walked with (n, c) so that no division
// is done per plane.
struct PlaneRange {
  int64_t first, last;
  int n, c;
};
__device__ inline PlaneRange plane_range(const UpFirDnParams& p, int planes_per_block) {
  int64_t first = int64_t(blockIdx.z) * planes_per_block;
  int64_t last = min(first + planes_per_block, int64_t(p.N) * p.C);
  return {first, last, int(first / p.C), int(first % p.C)};
}
__device__ inline void next_plane(const UpFirDnParams& p, PlaneRange& r) {
  if (++r.c == p.C) {
    r.c = 0;
    ++r.n;
  }
}

// Stages the window of channel plane (n, c) in shared memory (row pitch `pitch`), zero outside
// the image. The window is walked flat so that every thread has work, and each thread issues a
// batch of global loads before it stores any, so that their latencies overlap.
template <class T>
__device__ inline void load_window(const T* __restrict__ x, const UpFirDnParams& p, const PlaneRange& plane,
                                   const Window& win, compute_t<T>* window, int pitch) {
  using C = compute_t<T>;
  const T* src = x + plane.n * p.stride_n + plane.c * p.stride_c;
  const int count = win.w * win.h;
  for (int base = threadIdx.y * kBlockX + threadIdx.x; base < count; base += kLoadBatch * kThreads) {
    C v[kLoadBatch];
    int at[kLoadBatch];
#pragma unroll
    for (int u = 0; u < kLoadBatch; ++u) {
      int e = base + u * kThreads;
      // e / w through a float reciprocal: exact, since e + 0.5 stays >= 0.5 / w away from a
      // multiple of w and e < 2^24.
      int r = int((float(e) + 0.5f) * win.inv_w), c = e - r * win.w;
      int iy = win.y0 + r, ix = win.x0 + c;
      at[u] = e < count ? r * pitch + c : -1;
      bool inside = e < count && unsigned(iy) < unsigned(p.in_h) && unsigned(ix) < unsigned(p.in_w);
      v[u] = inside ? load_as_compute(src + iy * p.stride_h + ix * p.stride_w) : C(0);
    }
#pragma unroll
    for (int u = 0; u < kLoadBatch; ++u)
      if (at[u] >= 0) window[at[u]] = v[u];
  }
}

// K: taps per axis of every output's sub-filter (zero-padded); S: input rows between consecutive
// outputs of a thread's run; R: outputs per run. row_step: output rows between them (S * up_y /
// down_y); pitch: the window's row pitch.
template <class T, int K, int S, int R>
__global__ void __launch_bounds__(kThreads) upfirdn2d_tiled(const T* __restrict__ x,
                                                            const compute_t<T>* __restrict__ f,
                                                            T* __restrict__ out, UpFirDnParams p, int row_step,
                                                            int pitch, int planes_per_block) {
  using C = compute_t<T>;
  constexpr int kTileH = kBlockY * R;
  extern __shared__ __align__(16) unsigned char shared_raw[];
  // The filter, correlation-oriented and zero-padded to [K * up_y, K * up_x], so that every
  // phase's K x K sub-filter is a strided slice of it; then the input window.
  C* filter = reinterpret_cast<C*>(shared_raw);
  const int fpw = K * p.up_x, fph = K * p.up_y;
  C* window = filter + fph * fpw;
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (int k = ty * kBlockX + tx; k < fph * fpw; k += kThreads) {
    int i = k / fpw, j = k % fpw;
    C v = 0;
    if (i < p.filter_h && j < p.filter_w)
      v = f[corr_tap(i, p.filter_h, p.flip_filter) * p.filter_w + corr_tap(j, p.filter_w, p.flip_filter)];
    filter[k] = v;
  }
  const int ox0 = blockIdx.x * kBlockX, oy0 = blockIdx.y * kTileH;
  const Window win = window_of(p, ox0, oy0, kBlockX, kTileH, K);
  // This thread's outputs: column ox, rows oy_first + m * row_step for m < R. Threads ty that
  // differ by less than row_step start on consecutive rows, so together they cover the tile.
  const int ox = ox0 + tx;
  const int oy_first = oy0 + ty % row_step + row_step * R * (ty / row_step);
  const Phase px = phase_of(ox, p.down_x, p.pad_x0, p.up_x);
  const Phase py = phase_of(oy_first, p.down_y, p.pad_y0, p.up_y);
  __syncthreads();
  C w[K][K];
#pragma unroll
  for (int a = 0; a < K; ++a)
#pragma unroll
    for (int b = 0; b < K; ++b) w[a][b] = filter[(py.tap0 + p.up_y * a) * fpw + px.tap0 + p.up_x * b];

  const C* base = window + (py.in0 - win.y0) * pitch + (px.in0 - win.x0);

  // The set-up above (divisions included) is shared by all the planes of the block.
  for (PlaneRange plane = plane_range(p, planes_per_block); plane.first < plane.last; ++plane.first, next_plane(p, plane)) {
    __syncthreads();  // the previous plane's window is no longer read
    load_window(x, p, plane, win, window, pitch);
    __syncthreads();
    C acc[R];
#pragma unroll
    for (int m = 0; m < R; ++m) acc[m] = 0;
    // Window row r feeds output m through sub-filter row r - m * S (a compile-time test).
#pragma unroll
    for (int r = 0; r < (R - 1) * S + K; ++r) {
      C v[K];
#pragma unroll
      for (int b = 0; b < K; ++b) v[b] = base[r * pitch + b];
#pragma unroll
      for (int m = 0; m < R; ++m) {
        const int a = r - m * S;
        if (a >= 0 && a < K) {
#pragma unroll
          for (int b = 0; b < K; ++b) acc[m] += v[b] * w[a][b];
        }
      }
    }
    if (ox < p.out_w) {
      T* dst = out + plane.first * p.out_h * p.out_w + ox;
#pragma unroll
      for (int m = 0; m < R; ++m) {
        int oy = oy_first + m * row_step;
        if (oy < p.out_h) dst[int64_t(oy) * p.out_w] = from_compute<T>(acc[m]);
      }
    }
  }
}

// K: taps per pass (zero-padded). pitch: the window's row pitch.
template <class T, int K>
__global__ void __launch_bounds__(kThreads) upfirdn2d_separable(const T* __restrict__ x,
                                                                const compute_t<T>* __restrict__ f,
                                                                T* __restrict__ out, UpFirDnParams p, int pitch,
                                                                int planes_per_block) {
  using C = compute_t<T>;
  constexpr int kTileH = kBlockY * kSeparableRows;
  extern __shared__ __align__(16) unsigned char shared_raw[];
  // Both passes' taps, correlation-oriented and zero-padded to K * up; the input window; the
  // horizontal pass's result [window rows, 32].
  C* fx = reinterpret_cast<C*>(shared_raw);
  C* fy = fx + K * p.up_x;
  C* window = fy + K * p.up_y;
  const int tx = threadIdx.x, ty = threadIdx.y, taps = p.filter_w;
  for (int k = ty * kBlockX + tx; k < K * (p.up_x + p.up_y); k += kThreads) {
    int t = k < K * p.up_x ? k : k - K * p.up_x;
    fx[k] = t < taps ? f[corr_tap(t, taps, p.flip_filter)] : C(0);
  }
  const int ox0 = blockIdx.x * kBlockX, oy0 = blockIdx.y * kTileH, ox = ox0 + tx;
  const Window win = window_of(p, ox0, oy0, kBlockX, kTileH, K);
  C* rows = window + win.h * pitch;
  const Phase px = phase_of(ox, p.down_x, p.pad_x0, p.up_x);
  const int col0 = px.in0 - win.x0;
  // The vertical pass's rows oy0 + ty + 8k: their first intermediate row and first tap.
  int v_row[kSeparableRows], v_tap[kSeparableRows];
#pragma unroll
  for (int k = 0; k < kSeparableRows; ++k) {
    Phase py = phase_of(oy0 + ty + kBlockY * k, p.down_y, p.pad_y0, p.up_y);
    v_row[k] = py.in0 - win.y0;
    v_tap[k] = py.tap0;
  }
  __syncthreads();
  C hx[K];
#pragma unroll
  for (int b = 0; b < K; ++b) hx[b] = fx[px.tap0 + p.up_x * b];

  for (PlaneRange plane = plane_range(p, planes_per_block); plane.first < plane.last; ++plane.first, next_plane(p, plane)) {
    __syncthreads();  // the previous plane's window and rows are no longer read
    load_window(x, p, plane, win, window, pitch);
    __syncthreads();
    for (int r = ty; r < win.h; r += kBlockY) {
      const C* in = window + r * pitch + col0;
      C acc = 0;
#pragma unroll
      for (int b = 0; b < K; ++b) acc += hx[b] * in[b];
      rows[r * kBlockX + tx] = acc;
    }
    __syncthreads();
    if (ox >= p.out_w) continue;
    T* dst = out + plane.first * p.out_h * p.out_w + ox;
#pragma unroll
    for (int k = 0; k < kSeparableRows; ++k) {
      int oy = oy0 + ty + kBlockY * k;
      if (oy >= p.out_h) break;
      const C* in = rows + v_row[k] * kBlockX + tx;
      const C* taps_y = fy + v_tap[k];
      C acc = 0;
#pragma unroll
      for (int a = 0; a < K; ++a) acc += taps_y[p.up_y * a] * in[a * kBlockX];
      dst[int64_t(oy) * p.out_w] = from_compute<T>(acc);
    }
  }
}

// Grid: x over the output pixels of a plane, y over channels, z over the batch.
template <class T>
__global__ void upfirdn2d_direct(const T* __restrict__ x, const compute_t<T>* __restrict__ f, T* __restrict__ out,
                                 UpFirDnParams p) {
  using C = compute_t<T>;
  const int pixel = blockIdx.x * blockDim.x + threadIdx.x;
  if (pixel >= p.out_h * p.out_w) return;
  const int oy = pixel / p.out_w, ox = pixel - oy * p.out_w;
  const Phase px = phase_of(ox, p.down_x, p.pad_x0, p.up_x), py = phase_of(oy, p.down_y, p.pad_y0, p.up_y);
  for (int n = blockIdx.z; n < p.N; n += gridDim.z) {
    for (int c = blockIdx.y; c < p.C; c += gridDim.y) {
      const T* src = x + n * p.stride_n + c * p.stride_c;
      C acc = 0;
      for (int i = py.tap0, iy = py.in0; i < p.filter_h; i += p.up_y, ++iy) {
        if (iy < 0 || iy >= p.in_h) continue;
        int fi = corr_tap(i, p.filter_h, p.flip_filter);
        for (int j = px.tap0, ix = px.in0; j < p.filter_w; j += p.up_x, ++ix) {
          if (ix < 0 || ix >= p.in_w) continue;
          int fj = corr_tap(j, p.filter_w, p.flip_filter);
          C tap = p.separable ? f[fi] * f[fj] : f[fi * p.filter_w + fj];
          acc += load_as_compute(src + iy * p.stride_h + ix * p.stride_w) * tap;
        }
      }
      out[(int64_t(n) * p.C + c) * p.out_h * p.out_w + pixel] = from_compute<T>(acc);
    }
  }
}

// Smallest supported tap bucket >= taps, or 0.
int tap_bucket(int taps, std::initializer_list<int> buckets) {
  for (int b : buckets)
    if (taps <= b) return b;
  return 0;
}

// Planes per block: enough blocks for a few waves on every SM, and as many planes per block as
// that allows, so that each block's set-up is shared by many planes.
int planes_per_block(const UpFirDnParams& p, int64_t tiles) {
  int device = 0, sm_count = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  CUDA_CHECK(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, device));
  int64_t planes = int64_t(p.N) * p.C;
  int64_t blocks_z = std::max<int64_t>(1, int64_t(sm_count) * kBlocksPerSmTarget / tiles);
  int64_t per_block = std::max<int64_t>((planes + blocks_z - 1) / blocks_z, (planes + 65534) / 65535);
  return int(std::min<int64_t>(per_block, planes));
}

template <class T>
bool launch_tiled(const Tensor& out, const Tensor& x, const Tensor& f, const UpFirDnParams& p) {
  using C = compute_t<T>;
  int taps = std::max((p.filter_h + p.up_y - 1) / p.up_y, (p.filter_w + p.up_x - 1) / p.up_x);
  int K = tap_bucket(taps, {2, 4, 8});
  int g = std::gcd(p.up_y, p.down_y);
  int row_step = p.up_y / g, S = p.down_y / g;  // a run of outputs row_step apart reads rows S apart
  if (K == 0 || S > 2 || kBlockY % row_step != 0) return false;
  // Short planes take short runs, so that less of the tile falls outside the image.
  bool short_planes = p.out_h <= kBlockY * 4;
  int R = short_planes ? kRunShort : K == 2 ? kRunK2 : K == 4 ? kRunK4 : kRunK8, tile_h = kBlockY * R;
  int pitch = window_bound(kBlockX, p.down_x, p.up_x, K), rows = window_bound(tile_h, p.down_y, p.up_y, K);
  size_t shared = (size_t(K * p.up_y) * K * p.up_x + size_t(rows) * pitch) * sizeof(C);
  int64_t grid_x = (p.out_w + kBlockX - 1) / kBlockX, grid_y = (p.out_h + tile_h - 1) / tile_h;
  if (shared > kMaxSharedBytes || grid_y > 65535) return false;
  int per_block = planes_per_block(p, grid_x * grid_y);
  dim3 grid(unsigned(grid_x), unsigned(grid_y), unsigned((int64_t(p.N) * p.C + per_block - 1) / per_block));
  dim3 block(kBlockX, kBlockY);
  auto launch = [&](auto kernel) {
    kernel<<<grid, block, shared, current_stream()>>>(static_cast<const T*>(x.data_ptr()),
                                                      static_cast<const C*>(f.data_ptr()),
                                                      static_cast<T*>(out.data_ptr()), p, row_step, pitch,
                                                      per_block);
    return true;
  };
  switch (K * 100 + S * 10 + short_planes) {
    case 210: return launch(upfirdn2d_tiled<T, 2, 1, kRunK2>);
    case 220: return launch(upfirdn2d_tiled<T, 2, 2, kRunK2>);
    case 410: return launch(upfirdn2d_tiled<T, 4, 1, kRunK4>);
    case 420: return launch(upfirdn2d_tiled<T, 4, 2, kRunK4>);
    case 810: return launch(upfirdn2d_tiled<T, 8, 1, kRunK8>);
    case 820: return launch(upfirdn2d_tiled<T, 8, 2, kRunK8>);
    case 211: return launch(upfirdn2d_tiled<T, 2, 1, kRunShort>);
    case 221: return launch(upfirdn2d_tiled<T, 2, 2, kRunShort>);
    case 411: return launch(upfirdn2d_tiled<T, 4, 1, kRunShort>);
    case 421: return launch(upfirdn2d_tiled<T, 4, 2, kRunShort>);
    case 811: return launch(upfirdn2d_tiled<T, 8, 1, kRunShort>);
    default: return launch(upfirdn2d_tiled<T, 8, 2, kRunShort>);
  }
}

template <class T>
bool launch_separable(const Tensor& out, const Tensor& x, const Tensor& f, const UpFirDnParams& p) {
  using C = compute_t<T>;
  int taps = std::max((p.filter_h + p.up_y - 1) / p.up_y, (p.filter_w + p.up_x - 1) / p.up_x);
  int K = tap_bucket(taps, {4, 8, 12, 16});
  if (K == 0) return false;
  constexpr int tile_h = kBlockY * kSeparableRows;
  int pitch = window_bound(kBlockX, p.down_x, p.up_x, K), rows = window_bound(tile_h, p.down_y, p.up_y, K);
  size_t shared = (size_t(K) * (p.up_x + p.up_y) + size_t(rows) * (pitch + kBlockX)) * sizeof(C);
  int64_t grid_x = (p.out_w + kBlockX - 1) / kBlockX, grid_y = (p.out_h + tile_h - 1) / tile_h;
  if (shared > kMaxSharedBytes || grid_y > 65535) return false;
  int per_block = planes_per_block(p, grid_x * grid_y);
  dim3 grid(unsigned(grid_x), unsigned(grid_y), unsigned((int64_t(p.N) * p.C + per_block - 1) / per_block));
  dim3 block(kBlockX, kBlockY);
  auto launch = [&](auto kernel) {
    kernel<<<grid, block, shared, current_stream()>>>(static_cast<const T*>(x.data_ptr()),
                                                      static_cast<const C*>(f.data_ptr()),
                                                      static_cast<T*>(out.data_ptr()), p, pitch, per_block);
    return true;
  };
  switch (K) {
    case 4: return launch(upfirdn2d_separable<T, 4>);
    case 8: return launch(upfirdn2d_separable<T, 8>);
    case 12: return launch(upfirdn2d_separable<T, 12>);
    default: return launch(upfirdn2d_separable<T, 16>);
  }
}

template <class T>
void launch_direct(const Tensor& out, const Tensor& x, const Tensor& f, const UpFirDnParams& p) {
  dim3 grid(unsigned((int64_t(p.out_h) * p.out_w + 255) / 256), unsigned(std::min(p.C, 65535)),
            unsigned(std::min(p.N, 65535)));
  upfirdn2d_direct<<<grid, 256, 0, current_stream()>>>(static_cast<const T*>(x.data_ptr()),
                                                      static_cast<const compute_t<T>*>(f.data_ptr()),
                                                      static_cast<T*>(out.data_ptr()), p);
}

void check_raw_args(const Tensor& out, const Tensor& x, const Tensor& f, const UpFirDnParams& p) {
  DType compute = x.dtype() == DType::Float64 ? DType::Float64 : DType::Float32;
  SG_CHECK(x.is_cuda() && out.is_cuda() && f.is_cuda(), "upfirdn2d: expected CUDA tensors, got x ", x.describe(),
           ", f ", f.describe(), ", out ", out.describe());
  SG_CHECK(f.dtype() == compute && f.is_contiguous() && f.numel() == (p.separable ? 1 : p.filter_h) * p.filter_w,
           "upfirdn2d: expected a contiguous ", dtype_name(compute), " filter of ", p.filter_h, "x", p.filter_w,
           " taps, got ", f.describe());
  SG_CHECK(out.dtype() == x.dtype() && out.is_contiguous() && (out.shape() == Shape{p.N, p.C, p.out_h, p.out_w}),
           "upfirdn2d: expected a contiguous ", dtype_name(x.dtype()), " output [", p.N, ", ", p.C, ", ", p.out_h,
           ", ", p.out_w, "], got ", out.describe());
  SG_CHECK(int64_t(p.out_h) * p.out_w < (int64_t(1) << 31) && int64_t(p.in_h) * p.in_w < (int64_t(1) << 31),
           "upfirdn2d: expected planes of fewer than 2^31 pixels, got input ", p.in_h, "x", p.in_w, ", output ",
           p.out_h, "x", p.out_w);
}

}  // namespace

UpFirDnKernel upfirdn2d_cuda(const Tensor& out, const Tensor& x, const Tensor& f, const UpFirDnParams& p,
                             bool only_direct) {
  NvtxRange range("upfirdn2d");
  check_raw_args(out, x, f, p);
  UpFirDnKernel ran = UpFirDnKernel::Direct;
  if (out.numel() == 0) return ran;
  SG_DISPATCH_FLOAT_CUDA(x.dtype(), "upfirdn2d", [&] {
    if (!only_direct && p.separable && launch_separable<scalar_t>(out, x, f, p))
      ran = UpFirDnKernel::Separable;
    else if (!only_direct && !p.separable && launch_tiled<scalar_t>(out, x, f, p))
      ran = UpFirDnKernel::Tiled;
    else
      launch_direct<scalar_t>(out, x, f, p);
  });
  CUDA_CHECK_LAUNCH("upfirdn2d");
  return ran;
}

}  // namespace sg
