#include "data/image_io.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstring>
#include <fstream>

#include "ops/shape/shape.h"

namespace sg {

namespace {

struct PngReadState {
  const std::vector<uint8_t>* bytes;
  size_t offset;
  std::string error;
};

void png_error_handler(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngReadState*>(png_get_error_ptr(png));
  if (state) state->error = message;
  png_longjmp(png, 1);
}

void png_warning_handler(png_structp, png_const_charp) {}

void png_read_from_memory(png_structp png, png_bytep out, png_size_t count) {
  auto* state = static_cast<PngReadState*>(png_get_io_ptr(png));
  if (state->offset + count > state->bytes->size()) png_error(png, "unexpected end of data (truncated file)");
  std::memcpy(out, state->bytes->data() + state->offset, count);
  state->offset += count;
}

}  // namespace

Image decode_png(const std::vector<uint8_t>& bytes, const std::string& name) {
  SG_CHECK(bytes.size() >= 8 && png_sig_cmp(bytes.data(), 0, 8) == 0, "image: ", name, " is not a PNG file");
  PngReadState state{&bytes, 0, ""};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, png_error_handler, png_warning_handler);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  SG_CHECK(png && info, "image: cannot initialise libpng for ", name);
  Image image;
  std::vector<png_bytep> rows;
  // libpng reports errors by longjmp; nothing with a destructor is created between here and the
  // calls that may jump, and the error becomes an exception once back in this frame.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    SG_FAIL("image: ", name, " is corrupt: ", state.error);
  }
  png_set_read_fn(png, &state, png_read_from_memory);
  png_read_info(png, info);
  png_set_expand(png);  // palette -> RGB, low-bit gray -> 8 bits, tRNS -> alpha
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  png_read_update_info(png, info);
  image.width = int(png_get_image_width(png, info));
  image.height = int(png_get_image_height(png, info));
  image.channels = int(png_get_channels(png, info));
  image.pixels.resize(size_t(image.width) * image.height * image.channels);
  rows.resize(image.height);
  for (int y = 0; y < image.height; ++y) rows[y] = image.pixels.data() + size_t(y) * image.width * image.channels;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  SG_CHECK(image.channels == 1 || image.channels == 3, "image: ", name, " has ", image.channels,
           " channels after conversion, expected 1 or 3");
  return image;
}

Image read_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  SG_CHECK(in.good(), "image: cannot open ", path);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return decode_png(bytes, path);
}

void write_png(const std::string& path, const Image& image) {
  SG_CHECK(image.channels == 1 || image.channels == 3, "write_png: expected 1 or 3 channels, got ", image.channels);
  std::string tmp = path + ".tmp";
  FILE* file = std::fopen(tmp.c_str(), "wb");
  SG_CHECK(file != nullptr, "write_png: cannot write ", tmp);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(file);
    std::remove(tmp.c_str());
    SG_FAIL("write_png: libpng failed writing ", path);
  }
  png_init_io(png, file);
  png_set_compression_level(png, 3);
  png_set_IHDR(png, info, image.width, image.height, 8, image.channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < image.height; ++y)
    png_write_row(png, const_cast<png_bytep>(image.pixels.data() + size_t(y) * image.width * image.channels));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  bool ok = std::fclose(file) == 0;
  SG_CHECK(ok && std::rename(tmp.c_str(), path.c_str()) == 0, "write_png: cannot finish ", path);
}

void save_image_grid(const std::string& path, const Tensor& images, int grid_w, int grid_h) {
  SG_CHECK(images.dim() == 4 && (images.size(1) == 1 || images.size(1) == 3), "save_image_grid: expected [N, 1 or 3, H, W], got ",
           shape_str(images.shape()));
  int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  SG_CHECK(n <= int64_t(grid_w) * grid_h, "save_image_grid: ", n, " images do not fit a ", grid_w, "x", grid_h, " grid");
  std::vector<double> v = raw::contiguous(raw::to(images, DType::Float64, Device::CPU)).to_vector();
  Image grid;
  grid.width = int(w * grid_w);
  grid.height = int(h * grid_h);
  grid.channels = int(c);
  grid.pixels.assign(size_t(grid.width) * grid.height * c, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t gx = i % grid_w, gy = i / grid_w;
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          double value = std::clamp(v[((i * c + ch) * h + y) * w + x] * 127.5 + 128, 0.0, 255.0);
          grid.pixels[((gy * h + y) * grid.width + gx * w + x) * c + ch] = uint8_t(value);
        }
  }
  write_png(path, grid);
}

}  // namespace sg
