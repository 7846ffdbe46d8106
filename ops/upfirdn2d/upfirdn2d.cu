// CUDA kernels of upfirdn2d.
//   upfirdn2d_tiled:  a block computes a 32x32 output tile of one channel plane. It stages the
//                     input window that the tile needs (zero outside the image) and the filter in
//                     shared memory, then each thread computes 4 outputs, visiting only the
//                     filter taps that fall on real input pixels (every up-th tap).
//   upfirdn2d_direct: one thread per output reading global memory; the fallback when the tile's
//                     window would not fit in shared memory (very large filters or factors).
#include <algorithm>
#include "engine/cuda_check.h"
#include "engine/cuda_types.cuh"
#include "engine/nvtx.h"
#include "ops/upfirdn2d/upfirdn2d.h"

namespace sg {

namespace {

constexpr int kTileW = 32, kTileH = 32, kThreadsX = 32, kThreadsY = 8;
constexpr int kMaxSharedBytes = 48 * 1024;

__host__ __device__ inline int floor_div(int a, int b) { return (a >= 0 ? a : a - b + 1) / b; }
__host__ __device__ inline int ceil_div(int a, int b) { return floor_div(a + b - 1, b); }
__device__ inline int floor_mod(int a, int b) { return a - floor_div(a, b) * b; }

// Input rows (or columns) that output rows [o0, o0 + count) read.
struct Window {
  int lo, size;
};
__host__ __device__ inline Window input_window(int o0, int count, int down, int pad0, int taps, int up) {
  int lo = ceil_div(o0 * down - pad0, up);
  int hi = floor_div((o0 + count - 1) * down - pad0 + taps - 1, up);
  return {lo, hi - lo + 1};
}

template <class T>
__global__ void upfirdn2d_tiled(const T* __restrict__ x, const compute_t<T>* __restrict__ f, T* __restrict__ out,
                                UpFirDnParams p) {
  using C = compute_t<T>;
  extern __shared__ unsigned char shared_raw[];
  C* filter = reinterpret_cast<C*>(shared_raw);
  C* window = filter + p.filter_h * p.filter_w;
  int tid = threadIdx.y * blockDim.x + threadIdx.x, nthreads = blockDim.x * blockDim.y;
  // Store the filter already oriented for correlation, so the inner loop indexes it directly.
  for (int k = tid; k < p.filter_h * p.filter_w; k += nthreads) {
    int i = k / p.filter_w, j = k % p.filter_w;
    int src = p.flip_filter ? k : (p.filter_h - 1 - i) * p.filter_w + (p.filter_w - 1 - j);
    filter[k] = f[src];
  }
  int ox0 = blockIdx.x * kTileW, oy0 = blockIdx.y * kTileH;
  int tile_w = min(kTileW, p.out_w - ox0), tile_h = min(kTileH, p.out_h - oy0);
  Window wy = input_window(oy0, tile_h, p.down_y, p.pad_y0, p.filter_h, p.up_y);
  Window wx = input_window(ox0, tile_w, p.down_x, p.pad_x0, p.filter_w, p.up_x);
  int tx = threadIdx.x;
  int ox = ox0 + tx;
  int ux0 = ox * p.down_x - p.pad_x0;  // upsampled column of tap 0
  int j0 = floor_mod(-ux0, p.up_x);    // first tap on a real pixel; later ones are up_x apart
  int wcol0 = floor_div(ux0 + j0, p.up_x) - wx.lo;  // its window column; each next tap is +1
  for (int64_t plane = blockIdx.z; plane < int64_t(p.N) * p.C; plane += gridDim.z) {
    const T* src = x + plane * p.in_h * p.in_w;
    __syncthreads();  // the previous plane's window is no longer read
    for (int r = threadIdx.y; r < wy.size; r += blockDim.y) {
      int iy = wy.lo + r;
      for (int c = tx; c < wx.size; c += blockDim.x) {
        int ix = wx.lo + c;
        bool inside = iy >= 0 && iy < p.in_h && ix >= 0 && ix < p.in_w;
        window[r * wx.size + c] = inside ? load_as_compute(src + iy * p.in_w + ix) : C(0);
      }
    }
    __syncthreads();
    if (tx >= tile_w) continue;
    for (int ty = threadIdx.y; ty < tile_h; ty += blockDim.y) {
      int oy = oy0 + ty;
      int uy0 = oy * p.down_y - p.pad_y0;
      int i0 = floor_mod(-uy0, p.up_y);
      const C* row = window + (floor_div(uy0 + i0, p.up_y) - wy.lo) * wx.size + wcol0;
      C acc = 0;
      for (int i = i0; i < p.filter_h; i += p.up_y, row += wx.size) {
        const C* frow = filter + i * p.filter_w;
        int col = 0;
        for (int j = j0; j < p.filter_w; j += p.up_x, ++col) acc += row[col] * frow[j];
      }
      out[(plane * p.out_h + oy) * p.out_w + ox] = from_compute<T>(acc);
    }
  }
}

template <class T>
__global__ void upfirdn2d_direct(const T* __restrict__ x, const compute_t<T>* __restrict__ f, T* __restrict__ out,
                                 UpFirDnParams p) {
  using C = compute_t<T>;
  int64_t n = int64_t(p.N) * p.C * p.out_h * p.out_w;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    int ox = int(e % p.out_w), oy = int((e / p.out_w) % p.out_h);
    int64_t plane = e / (int64_t(p.out_w) * p.out_h);
    const T* src = x + plane * p.in_h * p.in_w;
    int ux0 = ox * p.down_x - p.pad_x0, uy0 = oy * p.down_y - p.pad_y0;
    C acc = 0;
    for (int i = floor_mod(-uy0, p.up_y); i < p.filter_h; i += p.up_y) {
      int iy = floor_div(uy0 + i, p.up_y);
      if (iy < 0 || iy >= p.in_h) continue;
      for (int j = floor_mod(-ux0, p.up_x); j < p.filter_w; j += p.up_x) {
        int ix = floor_div(ux0 + j, p.up_x);
        if (ix < 0 || ix >= p.in_w) continue;
        int fi = p.flip_filter ? i : p.filter_h - 1 - i, fj = p.flip_filter ? j : p.filter_w - 1 - j;
        acc += load_as_compute(src + iy * p.in_w + ix) * f[fi * p.filter_w + fj];
      }
    }
    out[e] = from_compute<T>(acc);
  }
}

}  // namespace

void upfirdn2d_cuda(const Tensor& out, const Tensor& x, const Tensor& f, const UpFirDnParams& p) {
  NvtxRange range("upfirdn2d");
  if (out.numel() == 0) return;
  size_t compute_size = x.dtype() == DType::Float64 ? 8 : 4;
  Window wy = input_window(0, kTileH, p.down_y, p.pad_y0, p.filter_h, p.up_y);
  Window wx = input_window(0, kTileW, p.down_x, p.pad_x0, p.filter_w, p.up_x);
  // The window size does not depend on the tile position beyond +1 row/column of rounding.
  int window_h = wy.size + 1, window_w = wx.size + 1;
  size_t shared = (size_t(p.filter_h) * p.filter_w + size_t(window_h) * window_w) * compute_size;
  SG_DISPATCH_FLOAT_CUDA(x.dtype(), "upfirdn2d", [&] {
    using C = compute_t<scalar_t>;
    const scalar_t* in = static_cast<const scalar_t*>(x.data_ptr());
    const C* filt = static_cast<const C*>(f.data_ptr());
    scalar_t* o = static_cast<scalar_t*>(out.data_ptr());
    if (shared <= size_t(kMaxSharedBytes)) {
      dim3 block(kThreadsX, kThreadsY);
      int64_t planes = int64_t(p.N) * p.C;
      dim3 grid((p.out_w + kTileW - 1) / kTileW, (p.out_h + kTileH - 1) / kTileH, unsigned(std::min<int64_t>(planes, 65535)));
      upfirdn2d_tiled<<<grid, block, shared, current_stream()>>>(in, filt, o, p);
    } else {
      int64_t n = out.numel();
      unsigned blocks = unsigned(std::min<int64_t>((n + 255) / 256, 65535 * 32));
      upfirdn2d_direct<<<blocks, 256, 0, current_stream()>>>(in, filt, o, p);
    }
  });
  CUDA_CHECK_LAUNCH("upfirdn2d");
}

}  // namespace sg
