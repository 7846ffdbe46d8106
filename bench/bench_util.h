// Timing helpers for `make bench`: CUDA-event timing of a callable (median of several runs after
// warm-up), the --filter selection, and tables that print achieved throughput next to the
// device's limit. Throughput counts the bytes one pass of the op must move (each input read once,
// the output written once) or the FLOPs it must do, so extra passes inside an implementation show
// up as a lower percentage of peak.
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
#include "engine/tensor.h"

namespace sg::bench {

// Median microseconds of fn() over `iters` runs on the current stream, after `warmup` runs. The
// events bracket each call on the stream, so host launch overhead counts only where it leaves the
// GPU idle (small ops are launch-bound, and the time says so).
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

// H100 SXM dense float16 tensor-core peak (NVIDIA's datasheet; float32 accumulation runs at the
// same rate), for the percentage column of float16 GEMMs. The CUDA runtime reports no such figure.
constexpr double kH100Fp16TensorTflops = 989.0;

inline double bytes_of(const Tensor& t) { return double(t.numel()) * double(dtype_size(t.dtype())); }

// --filter SUBSTRING: a benchmark runs when SUBSTRING occurs in "<section> <row name>", so a
// section's word (e.g. "upfirdn2d") selects all of its rows. Empty selects everything.
inline std::string& name_filter() {
  static std::string filter;
  return filter;
}

enum class Measure { Bytes, Flops };

struct Row {
  std::string name;
  double us = 0;
  double amount = 0;  // bytes moved or FLOPs done
  Measure measure = Measure::Bytes;
  double peak = 0;    // GB/s or TFLOP/s
  std::string note;   // e.g. the alternative it is compared with
};

// One titled table. Its header is printed before its first row, so a filtered run shows only
// the tables that have rows.
class Table {
 public:
  Table(std::string section, std::string title) : section_(std::move(section)), title_(std::move(title)) {}

  bool wanted(const std::string& name) const {
    return name_filter().empty() || (section_ + " " + name).find(name_filter()) != std::string::npos;
  }
  bool any_wanted(const std::vector<std::string>& names) const {
    return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return wanted(n); });
  }

  void print(const Row& r) {
    if (!header_printed_) {
      std::cout << "\n## " << title_ << "\n"
                << std::left << std::setw(kNameWidth) << "benchmark" << std::right << std::setw(12) << "time us"
                << std::setw(14) << "achieved" << std::setw(10) << "% peak" << "  note\n";
      header_printed_ = true;
    }
    bool flops = r.measure == Measure::Flops;
    double rate = r.amount / (r.us * 1e-6) / (flops ? 1e12 : 1e9);
    std::cout << std::left << std::setw(kNameWidth) << r.name << std::right << std::fixed << std::setprecision(1)
              << std::setw(12) << r.us << std::setw(9) << std::setprecision(flops ? 1 : 0) << rate
              << (flops ? " TF/s" : " GB/s") << std::setw(9) << std::setprecision(1) << 100 * rate / r.peak << "%  "
              << r.note << std::endl;
  }

  // Times fn and prints its row when the name passes the filter; returns the time, 0 if skipped.
  double run(const std::string& name, const std::function<void()>& fn, double amount, Measure measure, double peak,
             const std::string& note = "", int warmup = 3, int iters = 20) {
    if (!wanted(name)) return 0;
    double us = time_us(fn, warmup, iters);
    print({name, us, amount, measure, peak, note});
    return us;
  }

 private:
  static constexpr int kNameWidth = 58;
  std::string section_, title_;
  bool header_printed_ = false;
};

}  // namespace sg::bench
