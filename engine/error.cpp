#include "engine/error.h"

namespace sg {

void throw_error(const char* file, int line, const std::string& message) {
  std::string path(file);
  // Keep the path relative to the repository so messages read the same on every machine.
  for (const char* top : {"/engine/", "/autograd/", "/ops/", "/models/", "/data/", "/eval/", "/apps/", "/tests/", "/bench/"}) {
    auto pos = path.rfind(top);
    if (pos != std::string::npos) {
      path = path.substr(pos + 1);
      break;
    }
  }
  throw Error(message + " [" + path + ":" + std::to_string(line) + "]");
}

}  // namespace sg
