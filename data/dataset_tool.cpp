#include "data/dataset_tool.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "data/image_io.h"
#include "engine/safetensors.h"

namespace sg {

namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files unchanged
  SG_CHECK(f != nullptr, "dataset_tool: cannot open ", path);
  std::vector<uint8_t> out;
  std::vector<uint8_t> chunk(1 << 20);
  int got;
  while ((got = gzread(f, chunk.data(), unsigned(chunk.size()))) > 0) out.insert(out.end(), chunk.begin(), chunk.begin() + got);
  int error = 0;
  const char* message = gzerror(f, &error);
  gzclose(f);
  SG_CHECK(got == 0 && (error == Z_OK || error == Z_STREAM_END), "dataset_tool: ", path, " is corrupt: ", message);
  return out;
}

uint32_t big_endian(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

// Bilinear resampling with area averaging when shrinking by an integer factor.
Image resize(const Image& in, int size) {
  if (in.width == size && in.height == size) return in;
  Image out;
  out.width = out.height = size;
  out.channels = in.channels;
  out.pixels.resize(size_t(size) * size * in.channels);
  bool integer_shrink = in.width == in.height && in.width % size == 0;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x)
      for (int c = 0; c < in.channels; ++c) {
        double value;
        if (integer_shrink) {
          int f = in.width / size;
          double acc = 0;
          for (int dy = 0; dy < f; ++dy)
            for (int dx = 0; dx < f; ++dx) acc += in.pixels[(size_t(y * f + dy) * in.width + x * f + dx) * in.channels + c];
          value = acc / (f * f);
        } else {
          double sx = (x + 0.5) * in.width / size - 0.5, sy = (y + 0.5) * in.height / size - 0.5;
          int x0 = std::clamp(int(std::floor(sx)), 0, in.width - 1), y0 = std::clamp(int(std::floor(sy)), 0, in.height - 1);
          int x1 = std::min(x0 + 1, in.width - 1), y1 = std::min(y0 + 1, in.height - 1);
          double fx = std::clamp(sx - x0, 0.0, 1.0), fy = std::clamp(sy - y0, 0.0, 1.0);
          auto at = [&](int yy, int xx) { return double(in.pixels[(size_t(yy) * in.width + xx) * in.channels + c]); };
          value = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
        }
        out.pixels[(size_t(y) * size + x) * in.channels + c] = uint8_t(std::clamp(std::lround(value), 0L, 255L));
      }
  return out;
}

Image center_crop(const Image& in) {
  int side = std::min(in.width, in.height);
  Image out;
  out.width = out.height = side;
  out.channels = in.channels;
  out.pixels.resize(size_t(side) * side * in.channels);
  int ox = (in.width - side) / 2, oy = (in.height - side) / 2;
  for (int y = 0; y < side; ++y)
    std::copy_n(in.pixels.begin() + (size_t(y + oy) * in.width + ox) * in.channels, size_t(side) * in.channels,
                out.pixels.begin() + size_t(y) * side * in.channels);
  return out;
}

// Letterboxes into a black square of the larger side.
Image pad_square(const Image& in, int minimum) {
  int side = std::max({in.width, in.height, minimum});
  Image out;
  out.width = out.height = side;
  out.channels = in.channels;
  out.pixels.assign(size_t(side) * side * in.channels, 0);
  int ox = (side - in.width) / 2, oy = (side - in.height) / 2;
  for (int y = 0; y < in.height; ++y)
    std::copy_n(in.pixels.begin() + size_t(y) * in.width * in.channels, size_t(in.width) * in.channels,
                out.pixels.begin() + (size_t(y + oy) * side + ox) * in.channels);
  return out;
}

struct Collected {
  std::vector<uint8_t> pixels;  // NCHW
  std::vector<int64_t> labels;
  int64_t count = 0;
  int resolution = 0, channels = 0;
};

void add_image(Collected& out, Image image, const DatasetToolOptions& o, const std::string& name) {
  if (o.transform == "center-crop") image = center_crop(image);
  if (o.transform == "pad") image = pad_square(image, o.resolution);
  SG_CHECK(image.width == image.height, "dataset_tool: ", name, " is ", image.width, "x", image.height,
           "; non-square images need --transform center-crop or pad");
  int size = o.resolution > 0 ? o.resolution : image.width;
  image = resize(image, size);
  if (out.count == 0) {
    out.resolution = size;
    out.channels = image.channels;
  }
  SG_CHECK(image.channels == out.channels, "dataset_tool: ", name, " has ", image.channels, " channels, the first image had ",
           out.channels);
  for (int c = 0; c < image.channels; ++c)
    for (int p = 0; p < size * size; ++p) out.pixels.push_back(image.pixels[size_t(p) * image.channels + c]);
  ++out.count;
}

void progress(const DatasetToolOptions& o, int64_t count) {
  if (o.verbose && count % 5000 == 0) std::cout << "  " << count << " images" << std::endl;
}

}  // namespace

DatasetToolReport convert_dataset(const DatasetToolOptions& o) {
  SG_CHECK(!o.source.empty() && !o.dest.empty(), "dataset_tool: --source and --dest are required");
  SG_CHECK(o.transform == "none" || o.transform == "center-crop" || o.transform == "pad",
           "dataset_tool: --transform must be none, center-crop or pad, got '", o.transform, "'");
  SG_CHECK(o.resolution == 0 || (o.resolution >= 4 && (o.resolution & (o.resolution - 1)) == 0),
           "dataset_tool: --resolution must be a power of two >= 4, got ", o.resolution);
  SG_CHECK(fs::exists(o.source), "dataset_tool: source ", o.source, " does not exist");
  Collected out;
  DatasetToolReport report;
  auto full = [&] { return o.max_images >= 0 && out.count >= o.max_images; };

  std::string filename = fs::path(o.source).filename().string();
  if (fs::is_regular_file(o.source) && filename.find("idx3-ubyte") != std::string::npos) {
    std::vector<uint8_t> data = read_maybe_gzip(o.source);
    SG_CHECK(data.size() >= 16 && big_endian(data.data()) == 0x803, "dataset_tool: ", o.source,
             " is not an IDX image file (magic 0x803)");
    int64_t n = big_endian(&data[4]);
    int rows = int(big_endian(&data[8])), cols = int(big_endian(&data[12]));
    SG_CHECK(int64_t(data.size()) >= 16 + n * rows * cols, "dataset_tool: ", o.source, " is truncated");
    std::vector<uint8_t> label_data;
    std::string labels_path = o.source;
    labels_path.replace(labels_path.find("images-idx3"), 11, "labels-idx1");
    if (o.labels && fs::exists(labels_path)) {
      label_data = read_maybe_gzip(labels_path);
      SG_CHECK(label_data.size() >= 8 + size_t(n) && big_endian(label_data.data()) == 0x801, "dataset_tool: ", labels_path,
               " is not an IDX label file for ", n, " images");
    }
    for (int64_t i = 0; i < n && !full(); ++i) {
      Image image;
      image.width = cols;
      image.height = rows;
      image.channels = 1;
      image.pixels.assign(data.begin() + 16 + i * rows * cols, data.begin() + 16 + (i + 1) * rows * cols);
      add_image(out, image, o, o.source + " #" + std::to_string(i));
      if (!label_data.empty()) out.labels.push_back(label_data[8 + i]);
      progress(o, out.count);
    }
  } else {
    SG_CHECK(fs::is_directory(o.source), "dataset_tool: source ", o.source,
             " must be a folder of PNG images or an IDX image file (*-images-idx3-ubyte[.gz])");
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(o.source)) {
      std::string ext = entry.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
      if (entry.is_regular_file() && ext == ".png") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    SG_CHECK(!files.empty(), "dataset_tool: no PNG images found under ", o.source);
    for (const fs::path& file : files) {
      if (full()) break;
      Image image;
      try {
        image = read_png(file.string());
      } catch (const Error& e) {
        std::cerr << "skipping " << file.string() << ": " << e.what() << std::endl;
        ++report.skipped;
        continue;
      }
      add_image(out, image, o, file.string());
      progress(o, out.count);
    }
  }
  SG_CHECK(out.count > 0, "dataset_tool: no usable images in ", o.source);
  SG_CHECK(out.resolution >= 4 && (out.resolution & (out.resolution - 1)) == 0, "dataset_tool: images are ",
           out.resolution, "x", out.resolution, "; the networks need a power-of-two resolution (pass --resolution)");

  Tensor images = Tensor::empty({out.count, out.channels, out.resolution, out.resolution}, DType::UInt8);
  std::copy(out.pixels.begin(), out.pixels.end(), static_cast<uint8_t*>(images.data_ptr()));
  std::map<std::string, Tensor> tensors = {{"images", images}};
  if (!out.labels.empty()) {
    Tensor labels = Tensor::empty({out.count}, DType::Int64);
    std::copy(out.labels.begin(), out.labels.end(), labels.data<int64_t>());
    tensors["labels"] = labels;
  }
  if (fs::path(o.dest).has_parent_path()) fs::create_directories(fs::path(o.dest).parent_path());
  save_safetensors(o.dest, tensors, {{"format", "sg-dataset-1"}, {"source", o.source}});
  report.written = out.count;
  report.resolution = out.resolution;
  report.channels = out.channels;
  report.has_labels = !out.labels.empty();
  if (o.verbose)
    std::cout << "wrote " << out.count << " images (" << out.channels << "x" << out.resolution << "x" << out.resolution
              << (report.has_labels ? ", with labels" : "") << ") to " << o.dest << "; skipped " << report.skipped
              << " unreadable image(s)" << std::endl;
  return report;
}

}  // namespace sg
