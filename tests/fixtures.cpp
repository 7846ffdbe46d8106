#include "tests/fixtures.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>

#include "tests/test_util.h"

namespace sg::test {

namespace {

struct Registered {
  FixtureHandler handler;
  std::vector<FixtureMode> modes;
};

std::map<std::string, Registered>& registry() {
  static std::map<std::string, Registered> handlers;
  return handlers;
}

std::string tensor_key(const FixtureCase& c, const std::string& what) {
  return c.name.empty() ? what : c.name + "/" + what;
}

}  // namespace

std::vector<FixtureMode> default_fixture_modes() {
  return {{Device::CPU, DType::Float64, "cpu float64"}, {Device::CUDA, DType::Float32, "cuda float32"}};
}

bool register_fixture_kind(const std::string& prefix, FixtureHandler handler, std::vector<FixtureMode> modes) {
  registry()[prefix] = {std::move(handler), modes.empty() ? default_fixture_modes() : modes};
  return true;
}

const Tensor& FixtureCase::raw_tensor(const std::string& what) const { return file->at(tensor_key(*this, what)); }

bool FixtureCase::has(const std::string& what) const { return file->has(tensor_key(*this, what)); }

Tensor FixtureCase::input(const std::string& what) const { return raw::to(raw_tensor(what), mode.dtype, mode.device); }

void FixtureCase::expect_close(const std::string& what, const Tensor& got, double rel) {
  Tensor want = raw_tensor(what);
  if (!got.defined()) {
    fail(what + ": not computed");
    return;
  }
  Tensor value = raw::to(got, DType::Float64, Device::CPU);
  // A scalar may be stored as [1] by the exporter; compare it as a scalar.
  if (value.numel() == 1 && want.numel() == 1 && value.dim() <= 1 && want.dim() <= 1) value = raw::reshape(value, want.shape());
  CloseResult r = compare_to_max(value, want, rel);
  if (!r.ok) fail(str_cat(what, ": ", r.message, " (tolerance ", rel, " of max |want|)"));
}

}  // namespace sg::test

using namespace sg;
using namespace sg::test;

// One test case covers every fixture file, so the file set is discovered at run time: a new file
// of a known kind is tested with no code change.
TEST_CASE("fixtures: every file in the fixtures directory") {
  namespace fs = std::filesystem;
  std::string dir = fixtures_dir();
  if (!fs::is_directory(dir)) {
    FAIL("fixtures directory not found: ", dir, " (pass --fixtures-dir=DIR)");
    return;
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".safetensors") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  CHECK_MESSAGE(!files.empty(), "no .safetensors files in ", dir);

  for (const fs::path& path : files) {
    std::string filename = path.filename().string();
    const Registered* handler = nullptr;
    size_t best = 0;
    for (const auto& [prefix, registered] : registry()) {
      if (filename.rfind(prefix, 0) == 0 && prefix.size() > best) {
        handler = &registered;
        best = prefix.size();
      }
    }
    if (!handler) {
      std::cout << filename << ": no handler for this kind of fixture yet, not tested\n";
      continue;
    }
    SafetensorsFile file = load_safetensors(path.string());
    std::vector<nlohmann::json> cases;
    if (file.metadata.count("cases"))
      for (const auto& c : nlohmann::json::parse(file.metadata.at("cases"))) cases.push_back(c);
    else
      cases.push_back(nlohmann::json::object());

    for (const FixtureMode& mode : handler->modes) {
      if (mode.device == Device::CUDA && !cuda_available()) {
        std::cout << filename << " [" << mode.name << "]: skipped, " << cuda_unavailable_reason() << "\n";
        continue;
      }
      int passed = 0, failed = 0;
      for (const nlohmann::json& params : cases) {
        // A case is an object with a "name", or just its name.
        std::string name = params.is_string() ? params.get<std::string>() : params.value("name", std::string());
        FixtureCase c{name, params, &file, mode, {}};
        try {
          handler->handler(c);
        } catch (const std::exception& e) {
          c.fail(std::string("exception: ") + e.what());
        }
        if (c.failures.empty()) {
          ++passed;
          continue;
        }
        ++failed;
        for (const std::string& f : c.failures)
          FAIL_CHECK(str_cat(filename, " [", mode.name, "] case '", c.name, "': ", f));
      }
      std::cout << filename << " [" << mode.name << "]: " << passed << " cases passed, " << failed << " failed\n";
    }
  }
}
