// Command-line parsing shared by the apps: --name=value or --name value, --help, and a wrapper
// that turns sg::Error into a clean message and exit code 1.
#pragma once
#include <functional>
#include <map>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/device.h"

namespace sg {

class AppArgs {
 public:
  AppArgs(int argc, char** argv, const char* usage);
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string require(const std::string& name) const;
  std::string get(const std::string& name, const std::string& fallback) const;
  int get_int(const std::string& name, int fallback) const;
  double get_double(const std::string& name, double fallback) const;
  bool get_bool(const std::string& name, bool fallback) const;
  // --device=cpu|cuda, default cuda when available.
  Device device() const;
  bool help = false;

 private:
  std::map<std::string, std::string> values_;
  std::string usage_;
};

// Seeds from a list like "0-7,9"; errors name the app.
std::vector<uint64_t> parse_seeds(const std::string& text, const char* app);

// Parses the arguments, prints usage on --help, runs `body`, and reports errors.
int run_app(int argc, char** argv, const char* usage, const std::function<int(const AppArgs&)>& body);

}  // namespace sg
