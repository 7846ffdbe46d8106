#include "data/dataset_tool.h"

#include <zip.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "data/archive.h"
#include "data/dataset_json.h"

namespace sg {

namespace fs = std::filesystem;

std::string dataset_image_name(int64_t index) {
  char name[64];
  std::snprintf(name, sizeof name, "%05lld/img%08lld.png", static_cast<long long>(index / 1000),
                static_cast<long long>(index));
  return name;
}

// ---------------------------------------------------------------------------------------------
// Transforms

namespace {

struct Tap {
  int index;
  float weight;
};

// For each output position along one axis, the input positions and weights that make it.
std::vector<std::vector<Tap>> axis_taps(int in, int out) {
  std::vector<std::vector<Tap>> taps(out);
  double scale = double(in) / out;
  for (int o = 0; o < out; ++o) {
    if (in == out) {
      taps[o] = {{o, 1.0f}};
    } else if (in > out) {
      // Area: the input interval [o, o + 1) * scale, each pixel weighted by its overlap.
      double start = o * scale, end = (o + 1) * scale;
      for (int i = int(std::floor(start)); i < int(std::ceil(end)) && i < in; ++i) {
        double overlap = std::min(end, i + 1.0) - std::max(start, double(i));
        if (overlap > 1e-12) taps[o].push_back({i, float(overlap / scale)});
      }
    } else {
      double s = (o + 0.5) * scale - 0.5;
      int i0 = int(std::floor(s));
      float f = float(s - i0);
      taps[o] = {{std::clamp(i0, 0, in - 1), 1.0f - f}, {std::clamp(i0 + 1, 0, in - 1), f}};
    }
  }
  return taps;
}

}  // namespace

Image resize_image(const Image& image, int width, int height) {
  SG_CHECK(width > 0 && height > 0, "resize_image: expected a positive size, got ", width, "x", height);
  if (image.width == width && image.height == height) return image;
  int c = image.channels;
  std::vector<std::vector<Tap>> tx = axis_taps(image.width, width), ty = axis_taps(image.height, height);
  std::vector<float> rows(size_t(image.height) * width * c, 0.0f);  // horizontal pass
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < width; ++x)
      for (const Tap& t : tx[x])
        for (int ch = 0; ch < c; ++ch)
          rows[(size_t(y) * width + x) * c + ch] += t.weight * image.pixels[(size_t(y) * image.width + t.index) * c + ch];
  Image out;
  out.width = width;
  out.height = height;
  out.channels = c;
  out.pixels.resize(size_t(width) * height * c);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int ch = 0; ch < c; ++ch) {
        float v = 0;
        for (const Tap& t : ty[y]) v += t.weight * rows[(size_t(t.index) * width + x) * c + ch];
        out.pixels[(size_t(y) * width + x) * c + ch] = uint8_t(std::clamp(std::lround(v), 0L, 255L));
      }
  return out;
}

Image center_crop(const Image& image) {
  int side = std::min(image.width, image.height);
  int ox = (image.width - side) / 2, oy = (image.height - side) / 2;
  Image out;
  out.width = out.height = side;
  out.channels = image.channels;
  out.pixels.resize(size_t(side) * side * image.channels);
  for (int y = 0; y < side; ++y)
    std::copy_n(image.pixels.begin() + (size_t(y + oy) * image.width + ox) * image.channels,
                size_t(side) * image.channels, out.pixels.begin() + size_t(y) * side * image.channels);
  return out;
}

Image pad_to_square(const Image& image, int min_side) {
  int side = std::max({image.width, image.height, min_side});
  int ox = (side - image.width) / 2, oy = (side - image.height) / 2;
  Image out;
  out.width = out.height = side;
  out.channels = image.channels;
  out.pixels.assign(size_t(side) * side * image.channels, 0);
  for (int y = 0; y < image.height; ++y)
    std::copy_n(image.pixels.begin() + size_t(y) * image.width * image.channels, size_t(image.width) * image.channels,
                out.pixels.begin() + (size_t(y + oy) * side + ox) * image.channels);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sources

namespace {

class Source {
 public:
  virtual ~Source() = default;
  virtual int64_t size() const = 0;
  virtual std::string name(int64_t i) const = 0;
  // Throws sg::Error when the item cannot be decoded: the caller skips it. Thread-safe.
  virtual Image load(int64_t i) const = 0;
  virtual bool has_labels() const = 0;
  virtual nlohmann::json label(int64_t i) const = 0;
};

class ArchiveSource : public Source {
 public:
  explicit ArchiveSource(const std::string& path, bool want_labels) : archive_(path) {
    const std::vector<std::string>& names = archive_.files();
    for (int64_t i = 0; i < int64_t(names.size()); ++i)
      if (is_supported_image_name(names[i]) || is_other_image_name(names[i])) items_.push_back(i);
    SG_CHECK(!items_.empty(), "dataset_tool: no images (.png, .jpg, .jpeg) found in ", path);
    if (want_labels) labels_ = read_dataset_labels(archive_);
  }
  int64_t size() const override { return int64_t(items_.size()); }
  std::string name(int64_t i) const override { return archive_.describe(file(i)); }
  Image load(int64_t i) const override {
    SG_CHECK(is_supported_image_name(file(i)), "dataset_tool: ", name(i),
             " is in an image format this build cannot read (PNG and JPEG only)");
    return decode_image(archive_.read(items_[i]), name(i));
  }
  bool has_labels() const override { return labels_.found; }
  nlohmann::json label(int64_t i) const override {
    auto it = labels_.by_name.find(file(i));
    SG_CHECK(it != labels_.by_name.end(), "dataset_tool: ", archive_.describe("dataset.json"), " has no label for ",
             file(i));
    return it->second;
  }

 private:
  const std::string& file(int64_t i) const { return archive_.files()[items_[i]]; }
  Archive archive_;
  std::vector<int64_t> items_;
  DatasetLabels labels_;
};

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");  // plain files are read unchanged
  SG_CHECK(f != nullptr, "dataset_tool: cannot open ", path);
  std::vector<uint8_t> out;
  std::vector<uint8_t> chunk(1 << 20);
  int got;
  while ((got = gzread(f, chunk.data(), unsigned(chunk.size()))) > 0) out.insert(out.end(), chunk.begin(), chunk.begin() + got);
  int code = Z_OK;
  std::string message = gzerror(f, &code);
  gzclose(f);
  SG_CHECK(got == 0 && (code == Z_OK || code == Z_STREAM_END), "dataset_tool: ", path, " is corrupt: ", message);
  return out;
}

uint32_t big_endian(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

class IdxSource : public Source {
 public:
  IdxSource(const std::string& path, bool want_labels) : path_(path), data_(read_maybe_gzip(path)) {
    SG_CHECK(data_.size() >= 16 && big_endian(data_.data()) == 0x803, "dataset_tool: ", path,
             " is not an IDX image file (expected magic 0x00000803: unsigned bytes, 3 dimensions)");
    count_ = big_endian(&data_[4]);
    rows_ = int(big_endian(&data_[8]));
    cols_ = int(big_endian(&data_[12]));
    SG_CHECK(rows_ > 0 && cols_ > 0 && rows_ <= 65536 && cols_ <= 65536, "dataset_tool: ", path,
             " has images of an implausible size ", cols_, "x", rows_);
    SG_CHECK(data_.size() == 16 + size_t(count_) * rows_ * cols_, "dataset_tool: ", path, " holds ", data_.size() - 16,
             " bytes of pixels, expected ", count_, " images of ", cols_, "x", rows_);
    if (!want_labels) return;
    // train-images-idx3-ubyte[.gz] -> train-labels-idx1-ubyte[.gz], compressed or not.
    std::string file = fs::path(path).filename().string();
    size_t at = file.find("images-idx3-ubyte");
    std::string base = file.substr(0, at) + "labels-idx1-ubyte";
    for (const std::string& candidate : {base + ".gz", base}) {
      fs::path label_path = fs::path(path).parent_path() / candidate;
      if (!fs::exists(label_path)) continue;
      labels_path_ = label_path.string();
      labels_ = read_maybe_gzip(labels_path_);
      SG_CHECK(labels_.size() == 8 + size_t(count_) && big_endian(labels_.data()) == 0x801 &&
                   big_endian(&labels_[4]) == count_,
               "dataset_tool: ", labels_path_, " is not an IDX label file for ", count_, " images");
      break;
    }
  }
  int64_t size() const override { return count_; }
  std::string name(int64_t i) const override { return path_ + " #" + std::to_string(i); }
  Image load(int64_t i) const override {
    Image image;
    image.width = cols_;
    image.height = rows_;
    image.channels = 1;
    size_t bytes = size_t(rows_) * cols_;
    image.pixels.assign(data_.begin() + 16 + i * bytes, data_.begin() + 16 + (i + 1) * bytes);
    return image;
  }
  bool has_labels() const override { return !labels_.empty(); }
  nlohmann::json label(int64_t i) const override { return int(labels_[8 + i]); }

 private:
  std::string path_, labels_path_;
  std::vector<uint8_t> data_, labels_;
  uint32_t count_ = 0;
  int rows_ = 0, cols_ = 0;
};

std::unique_ptr<Source> open_source(const DatasetToolOptions& o) {
  std::error_code error;
  std::string file = fs::path(o.source).filename().string();
  bool is_zip = fs::path(o.source).extension() == ".zip" || fs::path(o.source).extension() == ".ZIP";
  if (fs::is_directory(o.source, error) || (fs::is_regular_file(o.source, error) && is_zip))
    return std::make_unique<ArchiveSource>(o.source, o.labels);
  if (fs::is_regular_file(o.source, error) && file.find("images-idx3-ubyte") != std::string::npos)
    return std::make_unique<IdxSource>(o.source, o.labels);
  SG_CHECK(fs::exists(o.source, error), "dataset_tool: --source ", o.source, " does not exist");
  SG_FAIL("dataset_tool: --source ", o.source,
          " must be a folder of images, a .zip of images, or an IDX image file (*-images-idx3-ubyte[.gz])");
}

// ---------------------------------------------------------------------------------------------
// Destination: a folder, or a staging folder packed into a zip at the end (libzip keeps every
// added entry until zip_close, so streaming files from disk bounds the memory).

class Destination {
 public:
  explicit Destination(const std::string& dest) : dest_(dest) {
    std::string ext = fs::path(dest).extension().string();
    zip_ = ext == ".zip" || ext == ".ZIP";
    std::error_code error;
    if (zip_) {
      root_ = dest + ".staging";
      fs::remove_all(root_, error);
      if (fs::path(dest).has_parent_path()) fs::create_directories(fs::path(dest).parent_path(), error);
    } else {
      root_ = dest;
      SG_CHECK(!fs::exists(dest, error) || (fs::is_directory(dest, error) && fs::is_empty(dest, error)),
               "dataset_tool: --dest folder ", dest, " exists and is not empty");
    }
    fs::create_directories(root_, error);
    SG_CHECK(!error, "dataset_tool: cannot create ", root_, ": ", error.message());
  }

  ~Destination() {
    std::error_code error;
    if (zip_) fs::remove_all(root_, error);
  }

  void write(const std::string& name, const std::vector<uint8_t>& bytes) {
    fs::path path = fs::path(root_) / name;
    std::error_code error;
    fs::create_directories(path.parent_path(), error);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    out.close();
    SG_CHECK(out.good(), "dataset_tool: cannot write ", path.string(), " (disk full?)");
    names_.push_back(name);
  }

  void finish(bool verbose) {
    if (!zip_) return;
    if (verbose) std::cout << "packing " << names_.size() << " files into " << dest_ << std::endl;
    std::string tmp = dest_ + ".tmp";
    int code = 0;
    zip_t* archive = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    if (!archive) {
      zip_error_t zerror;
      zip_error_init_with_code(&zerror, code);
      std::string message = zip_error_strerror(&zerror);
      zip_error_fini(&zerror);
      SG_FAIL("dataset_tool: cannot create ", tmp, ": ", message);
    }
    for (const std::string& name : names_) {
      std::string path = (fs::path(root_) / name).string();
      zip_source_t* source = zip_source_file(archive, path.c_str(), 0, 0);
      zip_int64_t index = source ? zip_file_add(archive, name.c_str(), source, ZIP_FL_ENC_UTF_8) : -1;
      if (source && index < 0) zip_source_free(source);
      // A fixed time stamp: the same images make the same archive.
      bool ok = index >= 0 && zip_set_file_compression(archive, zip_uint64_t(index), ZIP_CM_STORE, 0) == 0 &&
                zip_file_set_mtime(archive, zip_uint64_t(index), time_t(1577836800), 0) == 0;
      if (!ok) {
        std::string message = zip_strerror(archive);
        zip_discard(archive);
        SG_FAIL("dataset_tool: cannot add ", path, " to ", tmp, ": ", message);
      }
    }
    if (zip_close(archive) != 0) {
      std::string message = zip_strerror(archive);
      zip_discard(archive);
      SG_FAIL("dataset_tool: cannot write ", tmp, ": ", message);
    }
    std::error_code error;
    fs::rename(tmp, dest_, error);
    SG_CHECK(!error, "dataset_tool: cannot rename ", tmp, " to ", dest_, ": ", error.message());
  }

 private:
  std::string dest_, root_;
  bool zip_ = false;
  std::vector<std::string> names_;
};

// One source item after decoding, transforming and PNG encoding (done by worker threads).
struct Converted {
  enum class Kind { Ok, Skipped, Fatal } kind = Kind::Ok;
  std::string message;
  int side = 0, channels = 0;
  std::vector<uint8_t> png;
};

Converted convert_item(const Source& source, int64_t i, const DatasetToolOptions& o) {
  Converted out;
  Image image;
  try {
    image = source.load(i);
  } catch (const Error& e) {
    out.kind = Converted::Kind::Skipped;
    out.message = e.what();
    return out;
  } catch (const std::exception& e) {
    out.kind = Converted::Kind::Fatal;
    out.message = source.name(i) + ": " + e.what();
    return out;
  }
  try {
    if (o.transform == "center-crop") image = center_crop(image);
    if (o.transform == "pad") image = pad_to_square(image, o.resolution);
    SG_CHECK(image.width == image.height, "dataset_tool: ", source.name(i), " is ", image.width, "x", image.height,
             "; non-square images need --transform center-crop or pad");
    if (o.resolution > 0) image = resize_image(image, o.resolution, o.resolution);
    out.side = image.width;
    out.channels = image.channels;
    out.png = encode_png(image, 0);  // uncompressed, as the official tool writes
  } catch (const std::exception& e) {  // anything escaping a worker thread would terminate
    out.kind = Converted::Kind::Fatal;
    out.message = e.what();
  }
  return out;
}

}  // namespace

DatasetToolReport convert_dataset(const DatasetToolOptions& o) {
  SG_CHECK(!o.source.empty() && !o.dest.empty(), "dataset_tool: --source and --dest are required");
  SG_CHECK(o.transform == "none" || o.transform == "center-crop" || o.transform == "pad",
           "dataset_tool: --transform must be none, center-crop or pad, got '", o.transform, "'");
  SG_CHECK(o.resolution == 0 || (o.resolution >= 4 && (o.resolution & (o.resolution - 1)) == 0),
           "dataset_tool: --resolution must be a power of two >= 4 (the networks need one), got ", o.resolution);
  std::unique_ptr<Source> source = open_source(o);
  Destination dest(o.dest);
  int threads = o.threads > 0 ? o.threads : int(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
  bool write_labels = o.labels && source->has_labels();
  nlohmann::json labels = nlohmann::json::array();
  DatasetToolReport report;
  auto full = [&] { return o.max_images >= 0 && report.written >= o.max_images; };

  // Items are converted in parallel a chunk at a time and written in source order.
  int64_t total = source->size(), chunk = 64 * int64_t(threads);
  std::vector<Converted> results;
  for (int64_t begin = 0; begin < total && !full(); begin += chunk) {
    int64_t end = std::min(total, begin + chunk);
    results.assign(size_t(end - begin), Converted{});
    std::atomic<int64_t> next{begin};
    auto work = [&] {
      for (int64_t i; (i = next++) < end;) results[size_t(i - begin)] = convert_item(*source, i, o);
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();

    for (int64_t i = begin; i < end && !full(); ++i) {
      Converted& r = results[size_t(i - begin)];
      if (r.kind == Converted::Kind::Skipped) {
        if (o.verbose) std::cerr << "skipping: " << r.message << std::endl;
        ++report.skipped;
        report.skipped_names.push_back(source->name(i));
        continue;
      }
      SG_CHECK(r.kind == Converted::Kind::Ok, r.message);
      if (report.written == 0) {
        SG_CHECK(r.side >= 4 && (r.side & (r.side - 1)) == 0, "dataset_tool: ", source->name(i), " gives ", r.side, "x",
                 r.side, " images; the networks need a power-of-two resolution >= 4 (pass --resolution)");
        report.resolution = r.side;
        report.channels = r.channels;
      }
      SG_CHECK(r.side == report.resolution && r.channels == report.channels, "dataset_tool: ", source->name(i), " gives ",
               r.side, "x", r.side, " with ", r.channels, " channel(s), but the first image gave ", report.resolution,
               "x", report.resolution, " with ", report.channels, " (all images must match)");
      std::string name = dataset_image_name(report.written);
      if (write_labels) labels.push_back({name, source->label(i)});
      dest.write(name, r.png);
      ++report.written;
      if (o.verbose && o.progress_every > 0 && report.written % o.progress_every == 0)
        std::cout << "  " << report.written << " images written, " << report.skipped << " skipped" << std::endl;
    }
  }
  SG_CHECK(report.written > 0, "dataset_tool: no usable images in ", o.source, " (", report.skipped, " skipped)");

  nlohmann::json meta = {{"labels", write_labels ? labels : nlohmann::json(nullptr)}};
  std::string text = meta.dump();
  dest.write("dataset.json", std::vector<uint8_t>(text.begin(), text.end()));
  dest.finish(o.verbose);
  report.has_labels = write_labels;
  if (o.verbose)
    std::cout << "wrote " << report.written << " images (" << report.channels << "x" << report.resolution << "x"
              << report.resolution << (report.has_labels ? ", with labels" : "") << ") to " << o.dest << "; skipped "
              << report.skipped << " unreadable image(s)" << std::endl;
  return report;
}

}  // namespace sg
