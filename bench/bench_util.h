// Timing helpers for `make bench`: CUDA-event timing of a callable (median of several runs after
// warm-up) and a table that prints achieved throughput next to the device's limit.
#pragma once
#include <cuda_runtime_api.h>

#include <algorithm>
#include <functional>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "engine/cuda_check.h"
#include "engine/device.h"

namespace sg::bench {

// Median microseconds of fn() over `iters` runs on the current stream, after `warmup` runs.
inline double time_us(const std::function<void()>& fn, int warmup = 3, int iters = 20) {
  for (int i = 0; i < warmup; ++i) fn();
  cudaEvent_t start, stop;
  CUDA_CHECK(cudaEventCreate(&start));
  CUDA_CHECK(cudaEventCreate(&stop));
  std::vector<double> samples;
  for (int i = 0; i < iters; ++i) {
    CUDA_CHECK(cudaEventRecord(start, current_stream()));
    fn();
    CUDA_CHECK(cudaEventRecord(stop, current_stream()));
    CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    samples.push_back(ms * 1000.0);
  }
  CUDA_CHECK(cudaEventDestroy(start));
  CUDA_CHECK(cudaEventDestroy(stop));
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

// H100 SXM dense float16 tensor-core peak, for the percentage column of float16 GEMMs.
constexpr double kH100Fp16TensorTflops = 989.0;

struct Row {
  std::string name;
  double us;
  double amount;     // bytes moved or FLOPs done
  bool is_flops;
  double peak;       // GB/s or TFLOP/s
  std::string note;  // e.g. the alternative it is compared with
};

inline void print_header(const std::string& title) {
  std::cout << "\n## " << title << "\n"
            << std::left << std::setw(58) << "benchmark" << std::right << std::setw(12) << "time us" << std::setw(14)
            << "achieved" << std::setw(10) << "% peak" << "  note\n";
}

inline void print_row(const Row& r) {
  double rate = r.is_flops ? r.amount / (r.us * 1e-6) / 1e12 : r.amount / (r.us * 1e-6) / 1e9;
  std::cout << std::left << std::setw(58) << r.name << std::right << std::fixed << std::setprecision(1) << std::setw(12)
            << r.us << std::setw(9) << std::setprecision(r.is_flops ? 1 : 0) << rate << (r.is_flops ? " TF/s" : " GB/s")
            << std::setw(9) << std::setprecision(1) << 100 * rate / r.peak << "%  " << r.note << "\n";
}

}  // namespace sg::bench
