// CUDA reductions over the index maps of ReduceLayout (x read in place, any strides). Two shapes
// of work:
//   thread per output: when rows are short (cols <= 32), or when x's unit-stride dim is kept and
//     there are enough outputs: neighbouring threads then read neighbouring elements (a sum over
//     the batch dim of [N, M] reads rows of M coalesced);
//   block per output: 256 threads with strided partials and a warp-shuffle tree, reading the
//     reduced elements in order (a bias gradient of [N, C, H, W] reads runs of H*W per channel);
//     when there are few outputs each one is split over several blocks and the partials
//     reduced in a second pass.
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

// One block per (output row0 + blockIdx.y, split blockIdx.x): reduces the row's elements
// [split * chunk, (split + 1) * chunk) into out[blockIdx.y * gridDim.x + blockIdx.x]. Out may be
// wider than T (partials of a split reduction).
template <class T, class Out>
__global__ void reduce_block_per_row(const T* __restrict__ x, Out* __restrict__ out, ReduceLayout layout,
                                     int64_t row0, int64_t chunk, ReduceOp op) {
  using C = compute_t<T>;
  const int64_t begin = int64_t(blockIdx.x) * chunk, end = min(layout.cols, begin + chunk);
  const T* p = x + map_offset(layout.kept, uint32_t(row0 + blockIdx.y));
  C acc = op == ReduceOp::Sum ? C(0) : load_as_compute(p + map_offset(layout.reduced, uint32_t(begin)));
  for (int64_t c = begin + threadIdx.x; c < end; c += blockDim.x)
    acc = combine(op, acc, load_as_compute(p + map_offset(layout.reduced, uint32_t(c))));
  for (int offset = 16; offset > 0; offset /= 2) acc = combine(op, acc, __shfl_down_sync(0xffffffff, acc, offset));
  __shared__ C warp_results[kThreads / 32];
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) warp_results[warp] = acc;
  __syncthreads();
  if (warp == 0) {
    acc = lane < blockDim.x / 32 ? warp_results[lane] : (op == ReduceOp::Sum ? C(0) : warp_results[0]);
    for (int offset = 16; offset > 0; offset /= 2) acc = combine(op, acc, __shfl_down_sync(0xffffffff, acc, offset));
    if (lane == 0) out[int64_t(blockIdx.y) * gridDim.x + blockIdx.x] = from_compute<Out>(acc);
  }
}

// One thread per output row.
template <class T, class Out>
__global__ void reduce_thread_per_row(const T* __restrict__ x, Out* __restrict__ out, ReduceLayout layout,
                                      ReduceOp op) {
  using C = compute_t<T>;
  for (int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; r < layout.rows;
       r += int64_t(gridDim.x) * blockDim.x) {
    const T* row = x + map_offset(layout.kept, uint32_t(r));
    C acc = op == ReduceOp::Sum ? C(0) : load_as_compute(row);
    for (int64_t c = 0; c < layout.cols; ++c)
      acc = combine(op, acc, load_as_compute(row + map_offset(layout.reduced, uint32_t(c))));
    out[r] = from_compute<Out>(acc);
  }
}

unsigned grid_for(int64_t n) {
  return unsigned(std::clamp<int64_t>((n + kThreads - 1) / kThreads, 1, int64_t(65535) * 32));
}

// The layout of a contiguous [rows, cols] matrix.
ReduceLayout contiguous_layout(int64_t rows, int64_t cols) {
  StridedLayout kept, reduced;
  kept.ndim = reduced.ndim = 1;
  kept.sizes[0] = rows;
  kept.strides[0] = cols;
  reduced.sizes[0] = cols;
  reduced.strides[0] = 1;
  ReduceLayout layout;
  layout.kept = make_index_map32<1>(&kept);
  layout.reduced = make_index_map32<1>(&reduced);
  layout.rows = rows;
  layout.cols = cols;
  return layout;
}

}  // namespace

void reduce_cuda(ReduceOp op, const Tensor& out, const Tensor& x, const ReduceLayout& layout) {
  NvtxRange range("reduce");
  const int64_t rows = layout.rows, cols = layout.cols;
  if (rows == 0) return;
  SG_DISPATCH_FLOAT_CUDA(x.dtype(), "reduce", [&] {
    using C = compute_t<scalar_t>;
    const scalar_t* in = static_cast<const scalar_t*>(x.data_ptr());
    scalar_t* o = static_cast<scalar_t*>(out.data_ptr());
    cudaStream_t stream = current_stream();
    if (cols <= 32 || (layout.kept_unit_stride && rows >= 4096)) {
      reduce_thread_per_row<scalar_t, scalar_t><<<grid_for(rows), kThreads, 0, stream>>>(in, o, layout, op);
      return;
    }
    // Few long rows would leave most SMs idle: split each row, reduce the pieces into partials
    // (in the compute type, so float16 sums do not round at every step), then reduce those.
    const int64_t splits = rows >= 1024 ? 1 : std::clamp<int64_t>(1024 / rows, 1, (cols + 4095) / 4096);
    for (int64_t row0 = 0; row0 < rows; row0 += 65535) {
      const int64_t n = std::min<int64_t>(65535, rows - row0);
      if (splits == 1) {
        reduce_block_per_row<scalar_t, scalar_t><<<dim3(1, unsigned(n)), kThreads, 0, stream>>>(in, o + row0, layout,
                                                                                                 row0, cols, op);
        continue;
      }
      Tensor partial = Tensor::empty({n, splits}, x.dtype() == DType::Float64 ? DType::Float64 : DType::Float32, Device::CUDA);
      const int64_t chunk = (cols + splits - 1) / splits;
      reduce_block_per_row<scalar_t, C><<<dim3(unsigned(splits), unsigned(n)), kThreads, 0, stream>>>(
          in, static_cast<C*>(partial.data_ptr()), layout, row0, chunk, op);
      reduce_thread_per_row<C, scalar_t><<<grid_for(n), kThreads, 0, stream>>>(
          static_cast<const C*>(partial.data_ptr()), o + row0, contiguous_layout(n, splits), op);
    }
  });
  CUDA_CHECK_LAUNCH("reduce");
}

}  // namespace sg
