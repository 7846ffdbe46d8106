// Image files: PNG (libpng) and JPEG (libjpeg-turbo) decoding from memory or files into 8-bit
// grayscale or RGB, PNG and JPEG encoding, and image grids of generator output.
// Decoding converts what the training data cannot hold: palettes become RGB, 16-bit samples are
// scaled to 8 bits, alpha is dropped (gray+alpha -> gray, RGBA -> RGB), CMYK JPEGs become RGB.
// Every failure throws sg::Error naming the file; the C libraries' longjmp error paths never
// cross a C++ object with a destructor, and nothing aborts or exits.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace sg {

struct Image {
  int width = 0, height = 0, channels = 0;  // channels: 1 or 3
  std::vector<uint8_t> pixels;              // [H, W, C] row-major
};

// PNG or JPEG, told apart by their signatures; `name` (the file) is quoted in every error.
Image decode_image(const uint8_t* data, size_t size, const std::string& name);
Image decode_image(const std::vector<uint8_t>& bytes, const std::string& name);
Image decode_png(const uint8_t* data, size_t size, const std::string& name);
Image decode_jpeg(const uint8_t* data, size_t size, const std::string& name);
Image read_image(const std::string& path);

std::vector<uint8_t> read_file(const std::string& path);
// Writes through a temporary file and a rename, so readers never see a partial file.
void write_file(const std::string& path, const std::vector<uint8_t>& bytes);

// compression_level 0 (stored, what dataset_tool writes, as the official tool) to 9.
std::vector<uint8_t> encode_png(const Image& image, int compression_level = 1);
void write_png(const std::string& path, const Image& image, int compression_level = 1);
std::vector<uint8_t> encode_jpeg(const Image& image, int quality = 90);
void write_jpeg(const std::string& path, const Image& image, int quality = 90);

// images [N, C, H, W] float in [-1, 1] on any device, C = 1 or 3, laid out grid_w x grid_h
// (row-major; cells past N stay black) and written as one PNG. Pixels follow the official
// training-loop save_image_grid: rint((x + 1) * 127.5) in float32, clipped to [0, 255].
void save_image_grid(const std::string& path, const Tensor& images, int grid_w, int grid_h);

}  // namespace sg
