// Error vocabulary of the engine: every failed check throws sg::Error whose message names the
// call site (file:line), what was expected and what was got. Tests assert on these messages and
// apps print them and exit non-zero, so nothing here aborts.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace sg {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Concatenates any streamable values; used to build messages without a format dependency in
// .cu files (nvcc and fmt's headers do not mix cleanly under -Werror).
template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

[[noreturn]] void throw_error(const char* file, int line, const std::string& message);

}  // namespace sg

#define SG_CHECK(cond, ...)                                                   \
  do {                                                                        \
    if (!(cond)) ::sg::throw_error(__FILE__, __LINE__, ::sg::str_cat(__VA_ARGS__)); \
  } while (0)

#define SG_FAIL(...) ::sg::throw_error(__FILE__, __LINE__, ::sg::str_cat(__VA_ARGS__))
