// Data-driven fixture tests. Each file in the fixtures directory is matched to a handler by the
// longest registered file-name prefix (e.g. "ops_upfirdn2d"); the handler is called once per case
// listed in the file's `cases` metadata (or once, for files without cases) and per mode: CPU in
// float64 and, where a GPU is present, CUDA in float32. `make test-fixtures` prints one line per
// file and mode: `<file> [<mode>]: N cases passed, M failed`.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/safetensors.h"

namespace sg::test {

struct FixtureMode {
  Device device;
  DType dtype;
  const char* name;  // "cpu float64" / "cuda float32"
};

struct FixtureCase {
  std::string name;            // "" for files without a case list
  nlohmann::json params;       // this case's entry of `cases` (or an empty object)
  const SafetensorsFile* file;
  FixtureMode mode;
  std::vector<std::string> failures;

  // The tensor "<case>/<what>" (or "<what>" without cases) in the mode's device and dtype.
  Tensor input(const std::string& what) const;
  // The same, kept in the file's own dtype on the CPU (e.g. float32 filters).
  const Tensor& raw_tensor(const std::string& what) const;
  bool has(const std::string& what) const;
  // Records a failure unless |got - want| <= rel * max|want|.
  void expect_close(const std::string& what, const Tensor& got, double rel);
  void fail(const std::string& message) { failures.push_back(message); }
};

using FixtureHandler = std::function<void(FixtureCase&)>;

// Registers a handler for files whose name starts with `prefix`. `modes` lists what it supports.
bool register_fixture_kind(const std::string& prefix, FixtureHandler handler,
                           std::vector<FixtureMode> modes = {});

// The standard modes: CPU float64, and CUDA float32 where a GPU is present.
std::vector<FixtureMode> default_fixture_modes();

}  // namespace sg::test

#define SG_FIXTURE_CONCAT_(a, b) a##b
#define SG_FIXTURE_CONCAT(a, b) SG_FIXTURE_CONCAT_(a, b)
// At namespace scope in a test file: SG_REGISTER_FIXTURE("ops_upfirdn2d", handler_function);
#define SG_REGISTER_FIXTURE(prefix, ...) \
  static bool SG_FIXTURE_CONCAT(fixture_registered_, __LINE__) = ::sg::test::register_fixture_kind(prefix, __VA_ARGS__)
