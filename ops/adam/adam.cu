// One fused pass per parameter tensor: sanitise the gradient, update m and v, update the
// parameter. Non-finite gradient elements are counted with one atomic per block.
#include <algorithm>
#include "engine/cuda_check.h"
#include "engine/cuda_types.cuh"
#include "engine/nvtx.h"
#include "ops/adam/adam_math.h"

namespace sg {

namespace {

template <class T>
__global__ void adam_kernel(T* __restrict__ param, const T* __restrict__ grad, T* __restrict__ m, T* __restrict__ v,
                            AdamScalars s, int64_t n, unsigned long long* bad_count) {
  unsigned long long bad = 0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    bad += adam_update<T>(param[i], grad[i], m[i], v[i], s);
  if (bad && bad_count) atomicAdd(bad_count, bad);  // rare: only when gradients are not finite
}

}  // namespace

void adam_step_cuda(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const AdamScalars& s,
                    const Tensor& nonfinite_count) {
  NvtxRange range("adam");
  auto* counter = nonfinite_count.defined() ? reinterpret_cast<unsigned long long*>(nonfinite_count.data_ptr()) : nullptr;
  int64_t n = param.numel();
  unsigned blocks = unsigned(std::min<int64_t>((n + 255) / 256, 4096));
  SG_CHECK(param.dtype() == DType::Float32 || param.dtype() == DType::Float64, "adam: expected float32 or float64, got ",
           dtype_name(param.dtype()));
  if (param.dtype() == DType::Float32)
    adam_kernel<float><<<blocks, 256, 0, current_stream()>>>(param.data<float>(), grad.data<float>(), m.data<float>(),
                                                             v.data<float>(), s, n, counter);
  else
    adam_kernel<double><<<blocks, 256, 0, current_stream()>>>(param.data<double>(), grad.data<double>(), m.data<double>(),
                                                              v.data<double>(), s, n, counter);
  CUDA_CHECK_LAUNCH("adam");
}

}  // namespace sg
