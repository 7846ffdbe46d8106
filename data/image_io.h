// PNG images: decoding into 8-bit grayscale or RGB (palette, alpha and 16-bit inputs are
// converted; alpha is dropped), encoding, and image grids of generator output.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace sg {

struct Image {
  int width = 0, height = 0, channels = 0;  // channels: 1 or 3
  std::vector<uint8_t> pixels;              // HWC, row-major
};

// Throws sg::Error naming `name` (the file) when the data is not a valid PNG.
Image decode_png(const std::vector<uint8_t>& bytes, const std::string& name);
Image read_png(const std::string& path);
void write_png(const std::string& path, const Image& image);

// images [N, C, H, W] in [-1, 1] on any device, C = 1 or 3, laid out grid_w x grid_h (row-major)
// and written as one PNG (value * 127.5 + 128, clamped, truncated to uint8, as official).
void save_image_grid(const std::string& path, const Tensor& images, int grid_w, int grid_h);

}  // namespace sg
