// Small argument types shared by the image ops (upfirdn2d, conv2d, conv2d_resample, ...).
// Int2 holds a per-axis factor (x then y, as the official ops order them); Pad4 holds padding
// [x0, x1, y0, y1] (left, right, top, bottom), where negative values crop.
#pragma once
#include <string>

namespace sg {

struct Int2 {
  int x = 1, y = 1;
  Int2(int v = 1) : x(v), y(v) {}  // NOLINT: an int means the same value on both axes
  Int2(int x_, int y_) : x(x_), y(y_) {}
  bool operator==(const Int2&) const = default;
};

struct Pad4 {
  int x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  Pad4(int p = 0) : x0(p), x1(p), y0(p), y1(p) {}  // NOLINT: an int pads every side
  Pad4(int px, int py) : x0(px), x1(px), y0(py), y1(py) {}
  Pad4(int x0_, int x1_, int y0_, int y1_) : x0(x0_), x1(x1_), y0(y0_), y1(y1_) {}
  bool operator==(const Pad4&) const = default;
};

inline std::string to_string(const Int2& v) { return "[" + std::to_string(v.x) + ", " + std::to_string(v.y) + "]"; }
inline std::string to_string(const Pad4& p) {
  return "[" + std::to_string(p.x0) + ", " + std::to_string(p.x1) + ", " + std::to_string(p.y0) + ", " +
         std::to_string(p.y1) + "]";
}

}  // namespace sg
