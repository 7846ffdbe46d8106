#include "data/image_io.h"

#include <png.h>
// jpeglib.h needs FILE and size_t declared first.
#include <cstdio>
#include <jerror.h>
#include <jpeglib.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace sg {

namespace {

// Larger images are refused before any allocation: a corrupt header must not ask for terabytes.
constexpr int64_t kMaxSide = 1 << 16;
constexpr int64_t kMaxPixels = int64_t(1) << 28;

void check_size(int64_t width, int64_t height, const std::string& name) {
  SG_CHECK(width > 0 && height > 0 && width <= kMaxSide && height <= kMaxSide && width * height <= kMaxPixels,
           "image: ", name, " has an unsupported size ", width, "x", height, " (at most ", kMaxSide, " a side and ",
           kMaxPixels, " pixels)");
}

// ------------------------------------------------------------------------------------------
// PNG. libpng reports errors by longjmp to the frame that called setjmp. The functions holding a
// setjmp below have only trivially destructible locals, and the jump never leaves their frame, so
// no C++ destructor is skipped; the caller turns a `false` into an sg::Error.

struct PngIo {
  const uint8_t* data = nullptr;
  size_t size = 0, offset = 0;
  std::vector<uint8_t>* out = nullptr;
  char error[256] = "unknown libpng error";
};

void png_on_error(png_structp png, png_const_charp message) {
  auto* io = static_cast<PngIo*>(png_get_error_ptr(png));
  std::snprintf(io->error, sizeof io->error, "%s", message);
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}

void png_on_read(png_structp png, png_bytep out, size_t count) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  if (count > io->size - io->offset) png_error(png, "unexpected end of data (truncated file)");
  std::memcpy(out, io->data + io->offset, count);
  io->offset += count;
}

void png_on_write(png_structp png, png_bytep data, size_t count) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  io->out->insert(io->out->end(), data, data + count);
}

void png_on_flush(png_structp) {}

bool png_read_header(png_structp png, png_infop info, PngIo* io, uint32_t* width, uint32_t* height, int* channels) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_read_fn(png, io, png_on_read);
  png_set_user_limits(png, uint32_t(kMaxSide), uint32_t(kMaxSide));
  png_read_info(png, info);
  png_set_expand(png);      // palette -> RGB, 1/2/4-bit gray -> 8 bits, tRNS -> alpha
  png_set_scale_16(png);    // 16 -> 8 bits, rounded
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  *width = png_get_image_width(png, info);
  *height = png_get_image_height(png, info);
  *channels = png_get_channels(png, info);
  return true;
}

bool png_read_rows(png_structp png, png_infop info, png_bytep* rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, info);
  return true;
}

bool png_write_all(png_structp png, png_infop info, PngIo* io, const Image* image, int level, png_bytep* rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, io, png_on_write, png_on_flush);
  png_set_compression_level(png, level);
  // Filters only pay off when the data is compressed.
  if (level == 0) png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  png_set_IHDR(png, info, uint32_t(image->width), uint32_t(image->height), 8,
               image->channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, info);
  return true;
}

// ------------------------------------------------------------------------------------------
// JPEG. libjpeg's default error_exit calls exit(); ours formats the message and longjmps back to
// the setjmp of the phase in progress (same rules as for PNG above).

struct JpegErrors {
  jpeg_error_mgr base;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_on_error(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// A truncated file only warns in libjpeg (the rest is filled with gray); count it as corrupt, as
// PIL does. Other warnings (extraneous bytes, ...) are tolerated like PIL tolerates them.
void jpeg_on_message(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_on_error(cinfo);
}

bool jpeg_read_header_phase(jpeg_decompress_struct* cinfo, JpegErrors* errors, const uint8_t* data, size_t size) {
  if (setjmp(errors->jump)) return false;
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  if (cinfo->jpeg_color_space == JCS_GRAYSCALE)
    cinfo->out_color_space = JCS_GRAYSCALE;
  else if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK)
    cinfo->out_color_space = JCS_CMYK;  // libjpeg cannot make RGB from CMYK: converted below
  else
    cinfo->out_color_space = JCS_RGB;
  jpeg_calc_output_dimensions(cinfo);
  return true;
}

bool jpeg_read_rows_phase(jpeg_decompress_struct* cinfo, JpegErrors* errors, uint8_t* out, size_t row_bytes) {
  if (setjmp(errors->jump)) return false;
  jpeg_start_decompress(cinfo);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = out + size_t(cinfo->output_scanline) * row_bytes;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

bool jpeg_write_phase(jpeg_compress_struct* cinfo, JpegErrors* errors, const Image* image, int quality,
                      unsigned char** buffer, unsigned long* size) {
  if (setjmp(errors->jump)) return false;
  jpeg_create_compress(cinfo);
  jpeg_mem_dest(cinfo, buffer, size);
  cinfo->image_width = JDIMENSION(image->width);
  cinfo->image_height = JDIMENSION(image->height);
  cinfo->input_components = image->channels;
  cinfo->in_color_space = image->channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(cinfo);
  jpeg_set_quality(cinfo, quality, TRUE);
  jpeg_start_compress(cinfo, TRUE);
  size_t row_bytes = size_t(image->width) * image->channels;
  while (cinfo->next_scanline < cinfo->image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(image->pixels.data() + size_t(cinfo->next_scanline) * row_bytes);
    jpeg_write_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_compress(cinfo);
  return true;
}

void check_writable(const Image& image, const char* op) {
  SG_CHECK(image.channels == 1 || image.channels == 3, op, ": expected 1 or 3 channels, got ", image.channels);
  SG_CHECK(image.width > 0 && image.height > 0 &&
               image.pixels.size() == size_t(image.width) * image.height * image.channels,
           op, ": expected ", image.width, "x", image.height, "x", image.channels, " pixels, got ",
           image.pixels.size(), " bytes");
}

}  // namespace

Image decode_png(const uint8_t* data, size_t size, const std::string& name) {
  SG_CHECK(size >= 8 && png_sig_cmp(data, 0, 8) == 0, "image: ", name, " is not a PNG file");
  PngIo io;
  io.data = data;
  io.size = size;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, png_on_error, png_on_warning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) {
    png_destroy_read_struct(&png, &info, nullptr);
    SG_FAIL("image: cannot initialise libpng for ", name);
  }
  uint32_t width = 0, height = 0;
  int channels = 0;
  if (!png_read_header(png, info, &io, &width, &height, &channels)) {
    png_destroy_read_struct(&png, &info, nullptr);
    SG_FAIL("image: ", name, " is corrupt: ", io.error);
  }
  Image image;
  std::vector<png_bytep> rows;
  try {
    check_size(width, height, name);
    SG_CHECK(channels == 1 || channels == 3, "image: ", name, " has ", channels,
             " channels after conversion, expected 1 or 3");
    image.width = int(width);
    image.height = int(height);
    image.channels = channels;
    image.pixels.resize(size_t(width) * height * channels);
    rows.resize(height);
  } catch (...) {
    png_destroy_read_struct(&png, &info, nullptr);
    throw;
  }
  for (uint32_t y = 0; y < height; ++y) rows[y] = image.pixels.data() + size_t(y) * width * channels;
  bool ok = png_read_rows(png, info, rows.data());
  png_destroy_read_struct(&png, &info, nullptr);
  SG_CHECK(ok, "image: ", name, " is corrupt: ", io.error);
  return image;
}

Image decode_jpeg(const uint8_t* data, size_t size, const std::string& name) {
  SG_CHECK(size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF, "image: ", name, " is not a JPEG file");
  jpeg_decompress_struct cinfo;
  std::memset(&cinfo, 0, sizeof cinfo);
  JpegErrors errors;
  cinfo.err = jpeg_std_error(&errors.base);
  errors.base.error_exit = jpeg_on_error;
  errors.base.emit_message = jpeg_on_message;
  if (!jpeg_read_header_phase(&cinfo, &errors, data, size)) {
    jpeg_destroy_decompress(&cinfo);
    SG_FAIL("image: ", name, " is corrupt: ", errors.message);
  }
  int width = int(cinfo.output_width), height = int(cinfo.output_height), components = cinfo.output_components;
  bool adobe_cmyk = cinfo.saw_Adobe_marker;
  std::vector<uint8_t> decoded;
  try {
    check_size(width, height, name);
    decoded.resize(size_t(width) * height * components);
  } catch (...) {
    jpeg_destroy_decompress(&cinfo);
    throw;
  }
  bool ok = jpeg_read_rows_phase(&cinfo, &errors, decoded.data(), size_t(width) * components);
  jpeg_destroy_decompress(&cinfo);
  SG_CHECK(ok, "image: ", name, " is corrupt: ", errors.message);
  Image image;
  image.width = width;
  image.height = height;
  if (components != 4) {
    image.channels = components;
    image.pixels = std::move(decoded);
    return image;
  }
  // CMYK: Adobe writes the inks inverted (255 = no ink), others store them plainly.
  image.channels = 3;
  image.pixels.resize(size_t(width) * height * 3);
  for (size_t p = 0; p < size_t(width) * height; ++p) {
    const uint8_t* cmyk = &decoded[p * 4];
    int k = adobe_cmyk ? cmyk[3] : 255 - cmyk[3];
    for (int c = 0; c < 3; ++c) {
      int v = adobe_cmyk ? cmyk[c] : 255 - cmyk[c];
      image.pixels[p * 3 + c] = uint8_t((v * k + 127) / 255);
    }
  }
  return image;
}

Image decode_image(const uint8_t* data, size_t size, const std::string& name) {
  if (size >= 8 && png_sig_cmp(data, 0, 8) == 0) return decode_png(data, size, name);
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return decode_jpeg(data, size, name);
  SG_FAIL("image: ", name, " is neither a PNG nor a JPEG file (", size, " bytes)");
}

Image decode_image(const std::vector<uint8_t>& bytes, const std::string& name) {
  return decode_image(bytes.data(), bytes.size(), name);
}

Image read_image(const std::string& path) { return decode_image(read_file(path), path); }

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  SG_CHECK(in.good(), "cannot open ", path);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  SG_CHECK(!in.bad(), "cannot read ", path);
  return bytes;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    SG_CHECK(out.good(), "cannot write ", tmp);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    out.close();
    SG_CHECK(out.good(), "cannot write ", tmp, " (disk full?)");
  }
  std::error_code error;
  std::filesystem::rename(tmp, path, error);
  SG_CHECK(!error, "cannot rename ", tmp, " to ", path, ": ", error.message());
}

std::vector<uint8_t> encode_png(const Image& image, int compression_level) {
  check_writable(image, "encode_png");
  SG_CHECK(compression_level >= 0 && compression_level <= 9, "encode_png: compression level must be 0..9, got ",
           compression_level);
  std::vector<uint8_t> out;
  out.reserve(image.pixels.size() + image.height + 1024);
  PngIo io;
  io.out = &out;
  std::vector<png_bytep> rows(image.height);
  for (int y = 0; y < image.height; ++y)
    rows[y] = const_cast<png_bytep>(image.pixels.data() + size_t(y) * image.width * image.channels);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io, png_on_error, png_on_warning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  bool ok = png && info && png_write_all(png, info, &io, &image, compression_level, rows.data());
  png_destroy_write_struct(&png, &info);
  SG_CHECK(ok, "encode_png: libpng failed: ", io.error);
  return out;
}

void write_png(const std::string& path, const Image& image, int compression_level) {
  write_file(path, encode_png(image, compression_level));
}

std::vector<uint8_t> encode_jpeg(const Image& image, int quality) {
  check_writable(image, "encode_jpeg");
  SG_CHECK(quality >= 1 && quality <= 100, "encode_jpeg: quality must be 1..100, got ", quality);
  jpeg_compress_struct cinfo;
  std::memset(&cinfo, 0, sizeof cinfo);
  JpegErrors errors;
  cinfo.err = jpeg_std_error(&errors.base);
  errors.base.error_exit = jpeg_on_error;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  bool ok = jpeg_write_phase(&cinfo, &errors, &image, quality, &buffer, &size);
  jpeg_destroy_compress(&cinfo);
  std::vector<uint8_t> out;
  if (ok) out.assign(buffer, buffer + size);
  std::free(buffer);  // jpeg_mem_dest's buffer belongs to the caller, also after an error
  SG_CHECK(ok, "encode_jpeg: libjpeg failed: ", errors.message);
  return out;
}

void write_jpeg(const std::string& path, const Image& image, int quality) {
  write_file(path, encode_jpeg(image, quality));
}

void save_image_grid(const std::string& path, const Tensor& images, int grid_w, int grid_h) {
  SG_CHECK(images.dim() == 4 && (images.size(1) == 1 || images.size(1) == 3),
           "save_image_grid: expected images [N, 1 or 3, H, W], got ", shape_str(images.shape()));
  SG_CHECK(is_floating(images.dtype()), "save_image_grid: expected floating-point images, got ",
           dtype_name(images.dtype()));
  SG_CHECK(grid_w > 0 && grid_h > 0 && images.size(0) <= int64_t(grid_w) * grid_h, "save_image_grid: ",
           images.size(0), " images do not fit a ", grid_w, "x", grid_h, " grid");
  int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  Tensor host = raw::contiguous(raw::to(images, DType::Float32, Device::CPU));
  const float* v = host.data<float>();
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
          // float32 arithmetic and round-half-to-even, as numpy's rint in the official code.
          float value = std::nearbyint((v[((i * c + ch) * h + y) * w + x] + 1.0f) * 127.5f);
          grid.pixels[((gy * h + y) * grid.width + gx * w + x) * c + ch] = uint8_t(std::clamp(value, 0.0f, 255.0f));
        }
  }
  write_png(path, grid, 1);
}

}  // namespace sg
