// CUDA row reductions of a contiguous [rows, cols] matrix. Long rows: one block per row, a
// strided per-thread partial, then a warp-shuffle tree. Short rows (cols <= 32): one thread per
// row, so a [N*C, 1]-shaped reduction does not waste a block per element.
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

template <class T>
__global__ void reduce_rows_block(const T* __restrict__ x, T* __restrict__ out, int64_t cols, ReduceOp op) {
  using C = compute_t<T>;
  const T* row = x + blockIdx.x * cols;
  C acc = op == ReduceOp::Sum ? C(0) : load_as_compute(row);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) acc = combine(op, acc, load_as_compute(row + c));
  for (int offset = 16; offset > 0; offset /= 2) acc = combine(op, acc, __shfl_down_sync(0xffffffff, acc, offset));
  __shared__ C warp_results[kThreads / 32];
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) warp_results[warp] = acc;
  __syncthreads();
  if (warp == 0) {
    acc = lane < blockDim.x / 32 ? warp_results[lane] : (op == ReduceOp::Sum ? C(0) : warp_results[0]);
    for (int offset = 16; offset > 0; offset /= 2) acc = combine(op, acc, __shfl_down_sync(0xffffffff, acc, offset));
    if (lane == 0) out[blockIdx.x] = from_compute<T>(acc);
  }
}

template <class T>
__global__ void reduce_rows_thread(const T* __restrict__ x, T* __restrict__ out, int64_t rows, int64_t cols,
                                   ReduceOp op) {
  using C = compute_t<T>;
  for (int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; r < rows; r += int64_t(gridDim.x) * blockDim.x) {
    const T* row = x + r * cols;
    C acc = op == ReduceOp::Sum ? C(0) : load_as_compute(row);
    for (int64_t c = 0; c < cols; ++c) acc = combine(op, acc, load_as_compute(row + c));
    out[r] = from_compute<T>(acc);
  }
}

}  // namespace

void reduce_rows_cuda(ReduceOp op, const Tensor& out, const Tensor& x, int64_t rows, int64_t cols) {
  NvtxRange range("reduce");
  if (rows == 0) return;
  SG_CHECK(rows < (int64_t(1) << 31), "reduce: too many rows (", rows, ")");
  SG_DISPATCH_FLOAT_CUDA(x.dtype(), "reduce", [&] {
    const scalar_t* in = static_cast<const scalar_t*>(x.data_ptr());
    scalar_t* o = static_cast<scalar_t*>(out.data_ptr());
    if (cols <= 32) {
      unsigned blocks = unsigned(std::min<int64_t>((rows + kThreads - 1) / kThreads, 65535 * 32));
      reduce_rows_thread<<<blocks, kThreads, 0, current_stream()>>>(in, o, rows, cols, op);
    } else {
      reduce_rows_block<<<unsigned(rows), kThreads, 0, current_stream()>>>(in, o, cols, op);
    }
  });
  CUDA_CHECK_LAUNCH("reduce");
}

}  // namespace sg
