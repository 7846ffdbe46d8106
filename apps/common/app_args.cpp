#include "apps/common/app_args.h"

#include <cstring>
#include <iostream>
#include <sstream>

#include "engine/error.h"

namespace sg {

AppArgs::AppArgs(int argc, char** argv, const char* usage) : usage_(usage) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help = true;
      continue;
    }
    SG_CHECK(arg.rfind("--", 0) == 0, "unexpected argument '", arg, "'; options look like --name=value\n", usage_);
    auto eq = arg.find('=');
    if (eq != std::string::npos) {
      values_[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
    } else if (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0) {
      values_[arg.substr(2)] = argv[++i];
    } else {
      values_[arg.substr(2)] = "1";  // a bare flag
    }
  }
}

std::string AppArgs::require(const std::string& name) const {
  SG_CHECK(has(name), "missing required option --", name, "\n", usage_);
  return values_.at(name);
}

std::string AppArgs::get(const std::string& name, const std::string& fallback) const {
  return has(name) ? values_.at(name) : fallback;
}

int AppArgs::get_int(const std::string& name, int fallback) const {
  if (!has(name)) return fallback;
  try {
    size_t used = 0;
    int value = std::stoi(values_.at(name), &used);
    if (used == values_.at(name).size()) return value;
  } catch (const std::logic_error&) {
  }
  SG_FAIL("--", name, " expects an integer, got '", values_.at(name), "'");
}

double AppArgs::get_double(const std::string& name, double fallback) const {
  if (!has(name)) return fallback;
  try {
    size_t used = 0;
    double value = std::stod(values_.at(name), &used);
    if (used == values_.at(name).size()) return value;
  } catch (const std::logic_error&) {
  }
  SG_FAIL("--", name, " expects a number, got '", values_.at(name), "'");
}

bool AppArgs::get_bool(const std::string& name, bool fallback) const {
  if (!has(name)) return fallback;
  const std::string& v = values_.at(name);
  if (v == "1" || v == "true" || v == "yes") return true;
  if (v == "0" || v == "false" || v == "no") return false;
  SG_FAIL("--", name, " expects a boolean (1/0, true/false), got '", v, "'");
}

Device AppArgs::device() const {
  std::string d = get("device", cuda_available() ? "cuda" : "cpu");
  if (d == "cpu") return Device::CPU;
  SG_CHECK(d == "cuda", "--device must be cpu or cuda, got '", d, "'");
  SG_CHECK(cuda_available(), "--device=cuda requested but ", cuda_unavailable_reason());
  return Device::CUDA;
}

int run_app(int argc, char** argv, const char* usage, const std::function<int(const AppArgs&)>& body) {
  try {
    AppArgs args(argc, argv, usage);
    if (args.help) {
      std::cout << usage;
      return 0;
    }
    return body(args);
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
}

std::vector<uint64_t> parse_seeds(const std::string& text, const char* app) {
  std::vector<uint64_t> seeds;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    auto dash = item.find('-');
    try {
      if (dash == std::string::npos) {
        seeds.push_back(std::stoull(item));
      } else {
        uint64_t a = std::stoull(item.substr(0, dash)), b = std::stoull(item.substr(dash + 1));
        SG_CHECK(a <= b, app, ": bad seed range '", item, "'");
        for (uint64_t s = a; s <= b; ++s) seeds.push_back(s);
      }
    } catch (const std::logic_error&) {
      SG_FAIL(app, ": --seeds expects numbers and ranges like 0-7,9, got '", text, "'");
    }
  }
  SG_CHECK(!seeds.empty(), app, ": --seeds is empty");
  return seeds;
}

}  // namespace sg
