// cuDNN convolutions. Descriptors are built per call (cheap); the algorithm for each
// (direction, shape, dtype) is chosen once and cached: by timing every candidate on the call's own
// buffers (cudnnFind*AlgorithmEx, as the official trainer's cudnn.benchmark = True does), or from
// cuDNN's heuristic ranking when SG_CUDNN_BENCHMARK=0 (no timing at start-up, and the same choice
// on every run). float32 and float64
// use CUDNN_FMA_MATH, which rules out TF32 (as the official trainer runs); float16 accumulates in
// float32 and may use tensor cores. Workspaces come from the caching allocator. Failures name the
// op, the shapes and the dtype.
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include "engine/cuda_check.h"
#include "engine/nvtx.h"
#include "ops/conv2d/conv2d.h"

namespace sg {

namespace {

enum class Direction { Forward, BackwardData, BackwardWeight };

cudnnDataType_t cudnn_type(DType dtype) {
  switch (dtype) {
    case DType::Float16: return CUDNN_DATA_HALF;
    case DType::BFloat16: return CUDNN_DATA_BFLOAT16;
    case DType::Float32: return CUDNN_DATA_FLOAT;
    case DType::Float64: return CUDNN_DATA_DOUBLE;
    default: SG_FAIL("conv2d: unsupported dtype ", dtype_name(dtype));
  }
}

struct Descriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  Descriptors(const ConvShape& s, DType dtype) {
    cudnnDataType_t type = cudnn_type(dtype);
    // Half inputs accumulate in float; float and double accumulate in their own type.
    cudnnDataType_t compute = dtype == DType::Float64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, type, int(s.N), int(s.C), int(s.H), int(s.W)));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, type, int(s.N), int(s.K), int(s.Ho), int(s.Wo)));
    CUDNN_CHECK(cudnnSetFilter4dDescriptor(w, type, CUDNN_TENSOR_NCHW, int(s.K), int(s.C / s.groups), int(s.R), int(s.S)));
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, s.pad_h, s.pad_w, s.stride_h, s.stride_w, 1, 1,
                                                CUDNN_CROSS_CORRELATION, compute));
    CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv, s.groups));
    CUDNN_CHECK(cudnnSetConvolutionMathType(conv, math_type(dtype)));
  }
  ~Descriptors() {
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyConvolutionDescriptor(conv);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;

  static cudnnMathType_t math_type(DType dtype) {
    return is_half(dtype) ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
  }
};

using AlgoKey = std::tuple<int, DType, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int, int, int, int, int>;

AlgoKey make_key(Direction d, DType dtype, const ConvShape& s) {
  return {int(d), dtype, s.N, s.C, s.H, s.W, s.K, s.R, s.S, s.stride_h, s.stride_w, s.pad_h, s.pad_w, s.groups};
}

struct Choice {
  int algo;
  size_t workspace;
};

std::mutex cache_mutex;
std::map<AlgoKey, Choice> algo_cache;

// Largest workspace we accept for a convolution (the rest of the memory belongs to the model).
constexpr size_t kMaxWorkspace = size_t(1) << 30;

std::string describe_shape(const ConvShape& s, DType dtype) {
  return str_cat(dtype_name(dtype), " x [", s.N, ", ", s.C, ", ", s.H, ", ", s.W, "], w [", s.K, ", ", s.C / s.groups,
                 ", ", s.R, ", ", s.S, "], y [", s.N, ", ", s.K, ", ", s.Ho, ", ", s.Wo, "], stride ", s.stride_h, "x",
                 s.stride_w, ", padding ", s.pad_h, "x", s.pad_w, ", groups ", s.groups);
}

bool benchmark_algorithms() {
  static const bool enabled = [] {
    const char* v = std::getenv("SG_CUDNN_BENCHMARK");
    return v == nullptr || std::string(v) != "0";
  }();
  return enabled;
}

Tensor workspace(size_t bytes) { return bytes ? Tensor::empty({int64_t(bytes)}, DType::UInt8, Device::CUDA) : Tensor(); }

// The cached algorithm for (direction, shape, dtype), else the first of the candidates (fastest
// first when timed by `find`, in heuristic order from `get`) that keeps the requested math type and
// whose workspace (asked of cuDNN for that algorithm on these descriptors) fits.
template <class Perf, class GetFn, class FindFn, class SizeFn>
Choice pick(Direction d, DType dtype, const ConvShape& s, GetFn get, FindFn find, SizeFn workspace_size, int max_algos) {
  AlgoKey key = make_key(d, dtype, s);
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    auto it = algo_cache.find(key);
    if (it != algo_cache.end()) return it->second;
  }
  cudnnMathType_t wanted = Descriptors::math_type(dtype);
  // The first usable candidate of a ranking, if any.
  auto first_usable = [&](const std::vector<Perf>& perf, int returned) -> std::optional<Choice> {
    for (int i = 0; i < returned; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
      // Keep the math type we asked for: float32 must not fall back to TF32 tensor cores.
      if (!is_half(dtype) && perf[i].mathType != wanted && perf[i].mathType != CUDNN_DEFAULT_MATH) continue;
      size_t bytes = 0;
      // A failure here only means this algorithm does not apply to these descriptors.
      if (workspace_size(perf[i].algo, &bytes) != CUDNN_STATUS_SUCCESS || bytes > kMaxWorkspace) continue;
      return Choice{int(perf[i].algo), bytes};
    }
    return std::nullopt;
  };
  std::vector<Perf> perf(max_algos);
  int returned = 0;
  std::optional<Choice> choice;
  if (benchmark_algorithms()) {
    // Timing tries only the algorithms whose workspace fits what it is given; when memory is
    // short, those that need none. Where timing fails (a warning says so) or finds nothing
    // usable, the heuristic ranking below decides.
    try {
      Tensor ws;
      try {
        ws = workspace(kMaxWorkspace);
      } catch (const Error&) {
      }
      find(perf.data(), max_algos, &returned, ws.defined() ? ws.data_ptr() : nullptr, ws.defined() ? kMaxWorkspace : 0);
      choice = first_usable(perf, returned);
    } catch (const Error& e) {
      std::cerr << "warning: timing cuDNN's algorithms failed (" << e.what() << "); using its heuristic choice\n";
    }
  }
  if (!choice) {
    get(perf.data(), max_algos, &returned);
    choice = first_usable(perf, returned);
  }
  SG_CHECK(choice.has_value(), "cuDNN offers no usable algorithm (", returned, " candidates)");
  std::lock_guard<std::mutex> lock(cache_mutex);
  algo_cache[key] = *choice;
  return *choice;
}

// Runs the cuDNN calls of one convolution so that any failure names the op, the shapes and the dtype.
template <class F>
void with_context(const char* op, const ConvShape& s, DType dtype, F f) {
  try {
    f();
  } catch (const Error& e) {
    SG_FAIL(op, " on ", describe_shape(s, dtype), ": ", e.what());
  }
}

struct Scalars {
  double one64 = 1, zero64 = 0;
  float one32 = 1, zero32 = 0;
  const void* one(DType d) const { return d == DType::Float64 ? static_cast<const void*>(&one64) : &one32; }
  const void* zero(DType d) const { return d == DType::Float64 ? static_cast<const void*>(&zero64) : &zero32; }
};

}  // namespace

void conv2d_forward_cuda(const Tensor& y, const Tensor& x, const Tensor& w, const ConvShape& s) {
  NvtxRange range("conv2d");
  with_context("conv2d", s, x.dtype(), [&] {
    Descriptors d(s, x.dtype());
    cudnnHandle_t h = cudnn_handle();
    Choice c = pick<cudnnConvolutionFwdAlgoPerf_t>(
        Direction::Forward, x.dtype(), s,
        [&](auto* p, int n, int* r) { CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, n, r, p)); },
        [&](auto* p, int n, int* r, void* ws, size_t bytes) {
          CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(h, d.x, x.data_ptr(), d.w, w.data_ptr(), d.conv, d.y,
                                                             y.data_ptr(), n, r, p, ws, bytes));
        },
        [&](cudnnConvolutionFwdAlgo_t a, size_t* bytes) {
          return cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y, a, bytes);
        },
        CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
    Tensor ws = workspace(c.workspace);
    Scalars k;
    CUDNN_CHECK(cudnnConvolutionForward(h, k.one(x.dtype()), d.x, x.data_ptr(), d.w, w.data_ptr(), d.conv,
                                        cudnnConvolutionFwdAlgo_t(c.algo), ws.defined() ? ws.data_ptr() : nullptr,
                                        c.workspace, k.zero(x.dtype()), d.y, y.data_ptr()));
  });
}

void conv2d_backward_data_cuda(const Tensor& x, const Tensor& y, const Tensor& w, const ConvShape& s) {
  NvtxRange range("conv_transpose2d");
  with_context("conv_transpose2d", s, x.dtype(), [&] {
    Descriptors d(s, x.dtype());
    cudnnHandle_t h = cudnn_handle();
    Choice c = pick<cudnnConvolutionBwdDataAlgoPerf_t>(
        Direction::BackwardData, x.dtype(), s,
        [&](auto* p, int n, int* r) {
          CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y, d.conv, d.x, n, r, p));
        },
        [&](auto* p, int n, int* r, void* ws, size_t bytes) {
          CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(h, d.w, w.data_ptr(), d.y, y.data_ptr(), d.conv, d.x,
                                                                  x.data_ptr(), n, r, p, ws, bytes));
        },
        [&](cudnnConvolutionBwdDataAlgo_t a, size_t* bytes) {
          return cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w, d.y, d.conv, d.x, a, bytes);
        },
        CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT);
    Tensor ws = workspace(c.workspace);
    Scalars k;
    CUDNN_CHECK(cudnnConvolutionBackwardData(h, k.one(x.dtype()), d.w, w.data_ptr(), d.y, y.data_ptr(), d.conv,
                                             cudnnConvolutionBwdDataAlgo_t(c.algo),
                                             ws.defined() ? ws.data_ptr() : nullptr, c.workspace, k.zero(x.dtype()),
                                             d.x, x.data_ptr()));
  });
}

void conv2d_backward_weight_cuda(const Tensor& dw, const Tensor& x, const Tensor& dy, const ConvShape& s) {
  NvtxRange range("conv2d_weight_grad");
  with_context("conv2d_weight_grad", s, x.dtype(), [&] {
    Descriptors d(s, x.dtype());
    cudnnHandle_t h = cudnn_handle();
    Choice c = pick<cudnnConvolutionBwdFilterAlgoPerf_t>(
        Direction::BackwardWeight, x.dtype(), s,
        [&](auto* p, int n, int* r) {
          CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x, d.y, d.conv, d.w, n, r, p));
        },
        [&](auto* p, int n, int* r, void* ws, size_t bytes) {
          CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(h, d.x, x.data_ptr(), d.y, dy.data_ptr(), d.conv,
                                                                    d.w, dw.data_ptr(), n, r, p, ws, bytes));
        },
        [&](cudnnConvolutionBwdFilterAlgo_t a, size_t* bytes) {
          return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x, d.y, d.conv, d.w, a, bytes);
        },
        CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT);
    Tensor ws = workspace(c.workspace);
    Scalars k;
    CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, k.one(x.dtype()), d.x, x.data_ptr(), d.y, dy.data_ptr(), d.conv,
                                               cudnnConvolutionBwdFilterAlgo_t(c.algo),
                                               ws.defined() ? ws.data_ptr() : nullptr, c.workspace, k.zero(x.dtype()),
                                               d.w, dw.data_ptr()));
  });
}

}  // namespace sg
