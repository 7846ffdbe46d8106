// CUDA row reductions of a contiguous [rows, cols] matrix. Long rows: blocks of 256 threads
// with strided per-thread partials and a warp-shuffle tree; when there are few rows, each row is
// split over several blocks and the partials reduced in a second pass. Short rows (cols <= 32):
// one thread per row, so a [N*C, 1]-shaped reduction does not waste a block per element.
#include <algorithm>
#include "engine/cuda_check.h"
#include "engine/cuda_types.cuh"
#include "engine/nvtx.h"
#include "ops/reduce/reduce.h"

namespace sg {

namespace {

constexpr int kThreads = 256;

template <class C>
__device__ __forceinline__ C combine(ReduceOp op, C a, C b) {
  if (op == ReduceOp::Sum) return a + b;
  if (a != a) return a;
  if (b != b) return b;
  return op == ReduceOp::Max ? (a > b ? a : b) : (a < b ? a : b);
}

// One block per (row, split): reduces columns [split * chunk, (split + 1) * chunk) of the row
// into out[row * splits + split]. Out may be wider than T (partials of a split reduction).
template <class T, class Out>
__global__ void reduce_rows_block(const T* __restrict__ x, Out* __restrict__ out, int64_t cols, int64_t chunk,
                                  ReduceOp op) {
  using C = compute_t<T>;
  int64_t row = blockIdx.y, begin = int64_t(blockIdx.x) * chunk, end = min(cols, begin + chunk);
  const T* p = x + row * cols;
  C acc = op == ReduceOp::Sum ? C(0) : load_as_compute(p + begin);
  for (int64_t c = begin + threadIdx.x; c < end; c += blockDim.x) acc = combine(op, acc, load_as_compute(p + c));
  for (int offset = 16; offset > 0; offset /= 2) acc = combine(op, acc, __shfl_down_sync(0xffffffff, acc, offset));
  __shared__ C warp_results[kThreads / 32];
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) warp_results[warp] = acc;
  __syncthreads();
  if (warp == 0) {
    acc = lane < blockDim.x / 32 ? warp_results[lane] : (op == ReduceOp::Sum ? C(0) : warp_results[0]);
    for (int offset = 16; offset > 0; offset /= 2) acc = combine(op, acc, __shfl_down_sync(0xffffffff, acc, offset));
    if (lane == 0) out[row * gridDim.x + blockIdx.x] = from_compute<Out>(acc);
  }
}

// One thread per row; writes T, or Out when out_other is given (the last pass of a split).
template <class T, class Out = T>
__global__ void reduce_rows_thread(const T* __restrict__ x, T* __restrict__ out, int64_t rows, int64_t cols,
                                   ReduceOp op, Out* __restrict__ out_other = nullptr) {
  using C = compute_t<T>;
  for (int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; r < rows; r += int64_t(gridDim.x) * blockDim.x) {
    const T* row = x + r * cols;
    C acc = op == ReduceOp::Sum ? C(0) : load_as_compute(row);
    for (int64_t c = 0; c < cols; ++c) acc = combine(op, acc, load_as_compute(row + c));
    if (out_other)
      out_other[r] = from_compute<Out>(acc);
    else
      out[r] = from_compute<T>(acc);
  }
}

}  // namespace

void reduce_rows_cuda(ReduceOp op, const Tensor& out, const Tensor& x, int64_t rows, int64_t cols) {
  NvtxRange range("reduce");
  if (rows == 0) return;
  SG_CHECK(rows < 65535 * int64_t(1 << 15), "reduce: too many rows (", rows, ")");
  SG_DISPATCH_FLOAT_CUDA(x.dtype(), "reduce", [&] {
    using C = compute_t<scalar_t>;
    const scalar_t* in = static_cast<const scalar_t*>(x.data_ptr());
    scalar_t* o = static_cast<scalar_t*>(out.data_ptr());
    if (cols <= 32) {
      unsigned blocks = unsigned(std::min<int64_t>((rows + kThreads - 1) / kThreads, 65535 * 32));
      reduce_rows_thread<<<blocks, kThreads, 0, current_stream()>>>(in, o, rows, cols, op);
      return;
    }
    // Few long rows would leave most SMs idle: split each row, reduce the pieces into partials
    // (in the compute type, so float16 sums do not round at every step), then reduce those.
    int64_t splits = rows >= 1024 ? 1 : std::clamp<int64_t>(1024 / rows, 1, (cols + 4095) / 4096);
    for (int64_t row0 = 0; row0 < rows; row0 += 65535) {
      int64_t n = std::min<int64_t>(65535, rows - row0);
      if (splits == 1) {
        reduce_rows_block<scalar_t, scalar_t><<<dim3(1, unsigned(n)), kThreads, 0, current_stream()>>>(
            in + row0 * cols, o + row0, cols, cols, op);
        continue;
      }
      Tensor partial = Tensor::empty({n, splits}, x.dtype() == DType::Float64 ? DType::Float64 : DType::Float32, Device::CUDA);
      int64_t chunk = (cols + splits - 1) / splits;
      reduce_rows_block<scalar_t, C><<<dim3(unsigned(splits), unsigned(n)), kThreads, 0, current_stream()>>>(
          in + row0 * cols, static_cast<C*>(partial.data_ptr()), cols, chunk, op);
      reduce_rows_thread<C, scalar_t><<<unsigned((n + kThreads - 1) / kThreads), kThreads, 0, current_stream()>>>(
          static_cast<const C*>(partial.data_ptr()), nullptr, n, splits, op, o + row0);
    }
  });
  CUDA_CHECK_LAUNCH("reduce");
}

}  // namespace sg
