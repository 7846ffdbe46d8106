// Data pipeline on images generated here: PNG/JPEG decoding and its error paths, image grids,
// resizing, dataset_tool to a zip and to a folder (corrupt files skipped and counted, sorted order,
// labels, resolution checks, IDX input), the dataset reader's errors, the sampler and the loader
// (seeded order, x-flip, resume, worker errors, CUDA output).
#include <png.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/archive.h"
#include "data/dataset.h"
#include "data/dataset_tool.h"
#include "data/image_io.h"
#include "data/loader.h"
#include "tests/test_util.h"

using namespace sg;
namespace fs = std::filesystem;

namespace {

// A fresh folder per test and process (test binaries of several checkouts may run at once).
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("sg_data_" + std::to_string(::getpid()) + "_" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code error;
    fs::remove_all(path, error);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// Pixel (x, y, c) = base + 3 * (y * w + x) + c (mod 256): every pixel and channel distinct.
Image pattern(int w, int h, int c, int base) {
  Image image;
  image.width = w;
  image.height = h;
  image.channels = c;
  image.pixels.resize(size_t(w) * h * c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch) image.pixels[(size_t(y) * w + x) * c + ch] = uint8_t(base + 3 * (y * w + x) + ch);
  return image;
}

// Smooth content so JPEG round trips stay close.
Image gradient(int w, int h, int c) {
  Image image = pattern(w, h, c, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch) image.pixels[(size_t(y) * w + x) * c + ch] = uint8_t(40 + 8 * x + 4 * y + 20 * ch);
  return image;
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void put_png(const std::string& path, const Image& image) {
  fs::create_directories(fs::path(path).parent_path());
  write_png(path, image);
}

void put_jpeg(const std::string& path, const Image& image, int quality) {
  fs::create_directories(fs::path(path).parent_path());
  write_jpeg(path, image, quality);
}

void write_text(const std::string& path, const std::string& text) {
  write_bytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

std::vector<uint8_t> truncated(std::vector<uint8_t> bytes) {
  bytes.resize(bytes.size() / 2);
  return bytes;
}

// PNG variants our writer does not produce, through libpng's simplified API.
std::vector<uint8_t> simplified_png(uint32_t format, int w, int h, const void* pixels, const void* colormap = nullptr,
                                    int colormap_entries = 0) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = uint32_t(w);
  image.height = uint32_t(h);
  image.format = format;
  image.colormap_entries = uint32_t(colormap_entries);
  png_alloc_size_t size = 0;
  REQUIRE(png_image_write_to_memory(&image, nullptr, &size, 0, pixels, 0, colormap));
  std::vector<uint8_t> out(size);
  REQUIRE(png_image_write_to_memory(&image, out.data(), &size, 0, pixels, 0, colormap));
  out.resize(size);
  return out;
}

void write_idx(const std::string& path, uint32_t magic, const std::vector<uint32_t>& dims,
               const std::vector<uint8_t>& data, bool gzip) {
  std::vector<uint8_t> bytes;
  auto put = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) bytes.push_back(uint8_t(v >> s));
  };
  put(magic);
  for (uint32_t d : dims) put(d);
  bytes.insert(bytes.end(), data.begin(), data.end());
  if (!gzip) return write_bytes(path, bytes);
  fs::create_directories(fs::path(path).parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  gzwrite(f, bytes.data(), unsigned(bytes.size()));
  gzclose(f);
}

// CHW bytes of dataset image `index`.
std::vector<uint8_t> dataset_image(const ImageDataset& set, int64_t index) { return set.get(index).image; }

std::vector<double> values(const Tensor& t) { return t.to_vector(); }

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE("image_io: PNG round trip, conversions of palette, alpha and 16-bit inputs") {
  for (int channels : {1, 3}) {
    Image image = pattern(7, 5, channels, 11);
    for (int level : {0, 1, 9}) {
      Image back = decode_image(encode_png(image, level), "memory.png");
      CHECK(back.width == 7);
      CHECK(back.height == 5);
      CHECK(back.channels == channels);
      CHECK(back.pixels == image.pixels);
    }
  }
  // RGBA -> RGB (alpha dropped).
  std::vector<uint8_t> rgba = {10, 20, 30, 0, 40, 50, 60, 255};
  Image rgb = decode_image(simplified_png(PNG_FORMAT_RGBA, 2, 1, rgba.data()), "rgba.png");
  CHECK(rgb.channels == 3);
  CHECK(rgb.pixels == std::vector<uint8_t>{10, 20, 30, 40, 50, 60});
  // Gray + alpha -> gray.
  std::vector<uint8_t> ga = {7, 100, 9, 200};
  Image gray = decode_image(simplified_png(PNG_FORMAT_GA, 2, 1, ga.data()), "ga.png");
  CHECK(gray.channels == 1);
  CHECK(gray.pixels == std::vector<uint8_t>{7, 9});
  // 16-bit gray -> 8 bits: 257 * k scales to k exactly.
  std::vector<uint16_t> y16 = {0, 257 * 3, 257 * 200, 65535};
  Image narrow = decode_image(simplified_png(PNG_FORMAT_LINEAR_Y, 4, 1, y16.data()), "y16.png");
  CHECK(narrow.channels == 1);
  CHECK(narrow.pixels == std::vector<uint8_t>{0, 3, 200, 255});
  // Palette -> RGB.
  std::vector<uint8_t> colormap = {255, 0, 0, 0, 128, 255};
  std::vector<uint8_t> indices = {1, 0, 1};
  Image expanded = decode_image(simplified_png(PNG_FORMAT_RGB_COLORMAP, 3, 1, indices.data(), colormap.data(), 2),
                                "palette.png");
  CHECK(expanded.channels == 3);
  CHECK(expanded.pixels == std::vector<uint8_t>{0, 128, 255, 255, 0, 0, 0, 128, 255});
}

TEST_CASE("image_io: JPEG round trip in gray and RGB") {
  for (int channels : {1, 3}) {
    Image image = gradient(16, 8, channels);
    Image back = decode_image(encode_jpeg(image, 95), "memory.jpg");
    REQUIRE(back.channels == channels);
    REQUIRE(back.width == 16);
    REQUIRE(back.height == 8);
    int worst = 0;
    for (size_t i = 0; i < image.pixels.size(); ++i) worst = std::max(worst, std::abs(int(back.pixels[i]) - image.pixels[i]));
    CHECK(worst <= 6);  // quality 95 on a smooth ramp: a few levels of quantisation error at most
  }
}

TEST_CASE("image_io: corrupt and foreign inputs throw errors naming the file") {
  std::vector<uint8_t> png = encode_png(pattern(16, 16, 3, 0));
  CHECK_THROWS_WITH_ALL(decode_image(truncated(png), "cut.png"), "cut.png", "corrupt");
  std::vector<uint8_t> bad_crc = png;
  bad_crc[29] ^= 0xFF;  // inside IHDR's CRC
  CHECK_THROWS_WITH_ALL(decode_image(bad_crc, "crc.png"), "crc.png", "corrupt");
  std::vector<uint8_t> header_only(png.begin(), png.begin() + 8);
  CHECK_THROWS_WITH_ALL(decode_image(header_only, "empty.png"), "empty.png", "corrupt");
  std::vector<uint8_t> jpeg = encode_jpeg(gradient(32, 32, 3));
  CHECK_THROWS_WITH_ALL(decode_image(truncated(jpeg), "cut.jpg"), "cut.jpg", "corrupt");
  std::vector<uint8_t> garbage = {0xFF, 0xD8, 0xFF, 0x00, 0x12, 0x34, 0x56};
  CHECK_THROWS_WITH_ALL(decode_image(garbage, "junk.jpg"), "junk.jpg", "corrupt");
  std::string text = "not an image";
  CHECK_THROWS_WITH_ALL(decode_image(std::vector<uint8_t>(text.begin(), text.end()), "notes.png"), "notes.png",
                        "neither a PNG nor a JPEG");
  CHECK_THROWS_WITH_ALL(read_image("/nonexistent/x.png"), "cannot open", "/nonexistent/x.png");
  Image wrong = pattern(2, 2, 3, 0);
  wrong.pixels.pop_back();
  CHECK_THROWS_WITH_ALL(encode_png(wrong), "encode_png", "expected 2x2x3");
  wrong = pattern(2, 2, 2, 0);
  CHECK_THROWS_WITH_ALL(encode_jpeg(wrong), "encode_jpeg", "1 or 3 channels");
}

TEST_CASE("image_io: save_image_grid maps [-1, 1] to bytes like the official grid") {
  TempDir dir("grid");
  // Three 1-channel 2x2 images in a 2x2 grid; the fourth cell stays black.
  std::vector<double> v = {-1, 0, 1, 2,  -2, 0.5, -0.5, 1.0 / 127.5 - 1,  0.2, 0.2, 0.2, 0.2};
  Tensor images = Tensor::from_vector(v, {3, 1, 2, 2});
  save_image_grid(dir / "grid.png", images, 2, 2);
  Image grid = read_image(dir / "grid.png");
  REQUIRE(grid.width == 4);
  REQUIRE(grid.height == 4);
  REQUIRE(grid.channels == 1);
  auto at = [&](int x, int y) { return int(grid.pixels[size_t(y) * 4 + x]); };
  CHECK(at(0, 0) == 0);
  CHECK(at(1, 0) == 128);  // 127.5 rounds half to even
  CHECK(at(0, 1) == 255);
  CHECK(at(1, 1) == 255);  // clipped
  CHECK(at(2, 0) == 0);    // clipped
  CHECK(at(3, 0) == 191);  // 191.25
  CHECK(at(2, 1) == 64);   // 63.75
  CHECK(at(3, 1) == 1);
  CHECK(at(0, 2) == 153);  // 153.0 in float32
  CHECK(at(2, 2) == 0);    // empty cell
  CHECK_THROWS_WITH_ALL(save_image_grid(dir / "x.png", images, 1, 2), "save_image_grid", "do not fit");
  CHECK_THROWS_WITH_ALL(save_image_grid(dir / "x.png", Tensor::zeros({2, 2, 4, 4}), 2, 1), "save_image_grid",
                        "[N, 1 or 3, H, W]", "[2, 2, 4, 4]");
}

TEST_CASE("dataset_tool: resize averages areas when shrinking and interpolates when growing") {
  Image image = pattern(4, 4, 1, 0);  // values 3 * (4y + x)
  Image half = resize_image(image, 2, 2);
  CHECK(half.pixels == std::vector<uint8_t>{8, 14, 32, 38});  // means of 2x2 blocks: 7.5 -> 8, 13.5 -> 14, ...
  Image flat;
  flat.width = 5;
  flat.height = 3;
  flat.channels = 3;
  flat.pixels.assign(45, 77);
  for (auto [w, h] : {std::pair{2, 2}, std::pair{7, 4}, std::pair{3, 3}}) {
    Image r = resize_image(flat, w, h);
    CHECK(r.pixels == std::vector<uint8_t>(size_t(w) * h * 3, 77));  // weights sum to one
  }
  Image ramp;
  ramp.width = 2;
  ramp.height = 1;
  ramp.channels = 1;
  ramp.pixels = {0, 100};
  // Growing 2 -> 4: sample centres at -0.25, 0.25, 0.75, 1.25 of the input (clamped at the ends).
  CHECK(resize_image(ramp, 4, 1).pixels == std::vector<uint8_t>{0, 25, 75, 100});
  // 3 -> 2 area: outputs cover [0, 1.5) and [1.5, 3).
  ramp.width = 3;
  ramp.pixels = {0, 30, 90};
  CHECK(resize_image(ramp, 2, 1).pixels == std::vector<uint8_t>{10, 70});
  Image wide = pattern(6, 2, 1, 0);
  Image crop = center_crop(wide);
  CHECK(crop.width == 2);
  CHECK(crop.pixels == std::vector<uint8_t>{6, 9, 24, 27});  // columns 2 and 3
  Image padded = pad_to_square(wide, 0);
  CHECK(padded.width == 6);
  CHECK(padded.pixels[0] == 0);
  CHECK(padded.pixels[2 * 6 + 1] == wide.pixels[1]);  // rows 2 and 3 hold the image
}

TEST_CASE("dataset_tool: folder to zip and to folder; corrupt files skipped and counted; labels") {
  TempDir dir("tool");
  std::string src = dir / "src";
  put_png(src + "/b.png", pattern(16, 16, 3, 10));
  put_png(src + "/a.png", pattern(16, 16, 3, 20));
  put_png(src + "/sub/c.png", pattern(16, 16, 3, 30));
  put_jpeg(src + "/d.jpg", gradient(16, 16, 3), 95);
  write_bytes(src + "/broken.png", truncated(encode_png(pattern(16, 16, 3, 0))));
  write_text(src + "/text.png", "not an image");
  write_text(src + "/notes.txt", "ignored: no image extension");
  write_text(src + "/dataset.json",
             R"({"labels": [["a.png", 2], ["b.png", 0], ["sub/c.png", 1], ["d.jpg", 2], ["broken.png", 0]]})");

  DatasetToolOptions o;
  o.source = src;
  o.dest = dir / "out/set.zip";
  o.resolution = 8;
  o.threads = 2;
  o.verbose = false;
  DatasetToolReport r = convert_dataset(o);
  CHECK(r.written == 4);
  CHECK(r.skipped == 2);
  REQUIRE(r.skipped_names.size() == 2);
  CHECK(r.skipped_names[0].find("broken.png") != std::string::npos);
  CHECK(r.skipped_names[1].find("text.png") != std::string::npos);
  CHECK(r.resolution == 8);
  CHECK(r.channels == 3);
  CHECK(r.has_labels);
  CHECK_FALSE(fs::exists(o.dest + ".staging"));

  Archive zip(o.dest);
  CHECK(zip.files() == std::vector<std::string>{"00000/img00000000.png", "00000/img00000001.png",
                                                "00000/img00000002.png", "00000/img00000003.png", "dataset.json"});
  DatasetOptions with_labels;
  with_labels.use_labels = true;
  ImageDataset set(o.dest, with_labels);
  CHECK(set.name() == "set");
  CHECK(set.size() == 4);
  CHECK(set.resolution() == 8);
  CHECK(set.channels() == 3);
  CHECK(set.label_dim() == 3);
  // Sorted source order a, b, d.jpg, sub/c keeps each file's label.
  CHECK(set.label(0) == std::vector<float>{0, 0, 1});
  CHECK(set.label(1) == std::vector<float>{1, 0, 0});
  CHECK(set.label(2) == std::vector<float>{0, 0, 1});
  CHECK(set.label(3) == std::vector<float>{0, 1, 0});
  // a.png's red channel at (0, 0): the mean of its top-left 2x2 block, values 20 + 3 * (16y + x).
  std::vector<uint8_t> first = dataset_image(set, 0);
  CHECK(int(first[0]) == (20 + 23 + 68 + 71 + 2) / 4);
  CHECK(dataset_image(set, 3)[0] == uint8_t((30 + 33 + 78 + 81 + 2) / 4));

  // Folder output, then that folder (and the zip) as a source again: a second generation.
  o.dest = dir / "folder";
  o.resolution = 0;
  o.threads = 1;
  r = convert_dataset(o);
  CHECK(r.written == 4);
  CHECK(r.resolution == 16);
  CHECK(fs::exists(o.dest + "/00000/img00000003.png"));
  std::ifstream json(o.dest + "/dataset.json");
  std::string text((std::istreambuf_iterator<char>(json)), std::istreambuf_iterator<char>());
  CHECK(text.find(R"(["00000/img00000001.png",0])") != std::string::npos);
  CHECK_THROWS_WITH_ALL(convert_dataset(o), "--dest folder", "not empty");

  o.source = dir / "out/set.zip";
  o.dest = dir / "again";
  o.resolution = 4;
  o.max_images = 3;
  o.labels = false;
  r = convert_dataset(o);
  CHECK(r.written == 3);
  CHECK(r.skipped == 0);
  CHECK_FALSE(r.has_labels);
  ImageDataset again(o.dest);
  CHECK(again.size() == 3);
  CHECK(again.resolution() == 4);
  CHECK(again.label_dim() == 0);
  CHECK_THROWS_WITH_ALL(ImageDataset(o.dest, with_labels), "has no labels", "--cond");
}

TEST_CASE("dataset_tool: resolution and shape checks") {
  TempDir dir("tool_checks");
  put_png(dir / "odd/x.png", pattern(12, 12, 1, 0));
  put_png(dir / "wide/x.png", pattern(16, 8, 1, 0));
  put_png(dir / "mixed/a.png", pattern(8, 8, 1, 0));
  put_png(dir / "mixed/b.png", pattern(8, 8, 3, 0));
  DatasetToolOptions o;
  o.source = dir / "odd";
  o.dest = dir / "out1";
  o.verbose = false;
  o.resolution = 12;
  CHECK_THROWS_WITH_ALL(convert_dataset(o), "--resolution must be a power of two", "12");
  o.resolution = 0;
  CHECK_THROWS_WITH_ALL(convert_dataset(o), "x.png", "12x12", "power-of-two resolution");
  o.source = dir / "wide";
  o.dest = dir / "out2";
  CHECK_THROWS_WITH_ALL(convert_dataset(o), "x.png", "16x8", "--transform center-crop or pad");
  o.transform = "center-crop";
  CHECK(convert_dataset(o).resolution == 8);
  o.transform = "stretch";
  o.dest = dir / "out3";
  CHECK_THROWS_WITH_ALL(convert_dataset(o), "--transform must be", "stretch");
  o.transform = "none";
  o.source = dir / "mixed";
  CHECK_THROWS_WITH_ALL(convert_dataset(o), "b.png", "3 channel", "all images must match");
  o.source = dir / "missing";
  CHECK_THROWS_WITH_ALL(convert_dataset(o), "does not exist");
  write_text(dir / "only.txt", "x");
  o.source = dir / "only.txt";
  CHECK_THROWS_WITH_ALL(convert_dataset(o), "must be a folder of images");
}

TEST_CASE("dataset_tool: IDX files (gzip and plain) with labels, padded 28 -> 32") {
  TempDir dir("idx");
  int n = 10;
  std::vector<uint8_t> pixels(size_t(n) * 28 * 28), labels(n);
  for (int i = 0; i < n; ++i) {
    labels[i] = uint8_t(i % 3);
    for (int p = 0; p < 28 * 28; ++p) pixels[size_t(i) * 784 + p] = uint8_t(1 + (i * 7 + p) % 250);
  }
  for (bool gzip : {true, false}) {
    std::string sub = gzip ? "gz" : "plain", suffix = gzip ? ".gz" : "";
    write_idx(dir / (sub + "/train-images-idx3-ubyte" + suffix), 0x803, {uint32_t(n), 28, 28}, pixels, gzip);
    write_idx(dir / (sub + "/train-labels-idx1-ubyte" + suffix), 0x801, {uint32_t(n)}, labels, gzip);
    DatasetToolOptions o;
    o.source = dir / (sub + "/train-images-idx3-ubyte" + suffix);
    o.dest = dir / (sub + "/mnist.zip");
    o.resolution = 32;
    o.transform = "pad";
    o.verbose = false;
    DatasetToolReport r = convert_dataset(o);
    CHECK(r.written == n);
    CHECK(r.channels == 1);
    CHECK(r.has_labels);
    DatasetOptions options;
    options.use_labels = true;
    options.xflip = true;
    ImageDataset set(o.dest, options);
    CHECK(set.size() == 2 * n);
    CHECK(set.label_dim() == 3);
    CHECK(set.label(4) == std::vector<float>{0, 1, 0});
    CHECK(set.label(4 + n) == std::vector<float>{0, 1, 0});
    std::vector<uint8_t> img = dataset_image(set, 1), mirrored = dataset_image(set, 1 + n);
    CHECK(img[0] == 0);  // the zero padding border
    CHECK(img[2 * 32 + 2] == pixels[784]);             // the first source pixel lands at (2, 2)
    CHECK(img[29 * 32 + 29] == pixels[784 + 783]);     // and the last at (29, 29)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) REQUIRE(mirrored[y * 32 + x] == img[y * 32 + 31 - x]);
  }
  write_idx(dir / "bad/train-images-idx3-ubyte", 0x803, {uint32_t(n), 28, 28}, std::vector<uint8_t>(100), false);
  DatasetToolOptions o;
  o.source = dir / "bad/train-images-idx3-ubyte";
  o.dest = dir / "bad/out";
  o.verbose = false;
  CHECK_THROWS_WITH_ALL(convert_dataset(o), "train-images-idx3-ubyte", "expected 10 images of 28x28");
}

TEST_CASE("dataset: errors name the bad file") {
  TempDir dir("dataset_errors");
  put_png(dir / "mismatch/a.png", pattern(8, 8, 3, 0));
  put_png(dir / "mismatch/b.png", pattern(16, 16, 3, 0));
  put_png(dir / "mismatch/c.png", pattern(8, 8, 1, 0));
  ImageDataset set(dir / "mismatch");
  CHECK(set.size() == 3);
  CHECK(set.file_name(1) == "b.png");
  CHECK(dataset_image(set, 0).size() == 3 * 8 * 8);
  CHECK_THROWS_WITH_ALL(set.get(1), "b.png", "16x16", "all images must match");
  CHECK_THROWS_WITH_ALL(set.get(2), "c.png", "1 channel", "all images must match");
  CHECK_THROWS_WITH_ALL(set.get(3), "index 3 out of range");

  put_png(dir / "odd/a.png", pattern(12, 12, 3, 0));
  CHECK_THROWS_WITH_ALL(ImageDataset(dir / "odd"), "a.png", "12x12", "power-of-two");
  write_bytes(dir / "corrupt/a.png", truncated(encode_png(pattern(8, 8, 3, 0))));
  CHECK_THROWS_WITH_ALL(ImageDataset(dir / "corrupt"), "a.png", "corrupt");
  put_png(dir / "gif/a.png", pattern(8, 8, 3, 0));
  write_text(dir / "gif/b.gif", "GIF89a");
  CHECK_THROWS_WITH_ALL(ImageDataset(dir / "gif"), "b.gif", "PNG and JPEG only");
  fs::create_directories(dir / "empty");
  CHECK_THROWS_WITH_ALL(ImageDataset(dir / "empty"), "no PNG or JPEG images");
  CHECK_THROWS_WITH_ALL(ImageDataset(dir / "missing.zip"), "missing.zip", "does not exist");
  write_text(dir / "fake.zip", "not a zip");
  CHECK_THROWS_WITH_ALL(ImageDataset(dir / "fake.zip"), "fake.zip", "cannot open");

  DatasetOptions cond;
  cond.use_labels = true;
  put_png(dir / "labels/a.png", pattern(8, 8, 3, 0));
  put_png(dir / "labels/b.png", pattern(8, 8, 3, 0));
  write_text(dir / "labels/dataset.json", R"({"labels": [["a.png", 1]]})");
  CHECK_THROWS_WITH_ALL(ImageDataset(dir / "labels", cond), "dataset.json", "no label for b.png");
  write_text(dir / "labels/dataset.json", R"({"labels": [["a.png", 1], ["b.png", -1]]})");
  CHECK_THROWS_WITH_ALL(ImageDataset(dir / "labels", cond), "label of b.png", "-1");
  write_text(dir / "labels/dataset.json", R"({"labels": )");
  CHECK_THROWS_WITH_ALL(ImageDataset(dir / "labels", cond), "dataset.json", "not a JSON object");
  write_text(dir / "labels/dataset.json", R"({"labels": [["a.png", [0.5, 1]], ["b.png", [2, -3.25]]]})");
  ImageDataset vectors(dir / "labels", cond);
  CHECK(vectors.label_dim() == 2);
  CHECK(vectors.label(1) == std::vector<float>{2, -3.25f});
  write_text(dir / "labels/dataset.json", R"({"labels": null})");
  CHECK_THROWS_WITH_ALL(ImageDataset(dir / "labels", cond), "has no labels", "--cond");
  CHECK(ImageDataset(dir / "labels").label_dim() == 0);
}

TEST_CASE("dataset: max_size keeps a seeded sorted subset") {
  TempDir dir("subset");
  for (int i = 0; i < 12; ++i) put_png(dir / ("set/img" + std::to_string(10 + i) + ".png"), pattern(4, 4, 1, i));
  DatasetOptions o;
  o.max_size = 5;
  o.seed = 3;
  ImageDataset a(dir / "set", o), b(dir / "set", o);
  o.seed = 4;
  ImageDataset c(dir / "set", o);
  REQUIRE(a.size() == 5);
  std::vector<std::string> na, nb, nc;
  for (int64_t i = 0; i < 5; ++i) {
    na.push_back(a.file_name(i));
    nb.push_back(b.file_name(i));
    nc.push_back(c.file_name(i));
  }
  CHECK(na == nb);
  CHECK(na != nc);
  CHECK(std::is_sorted(na.begin(), na.end()));
  CHECK(std::set<std::string>(na.begin(), na.end()).size() == 5);
  ImageDataset slash(dir / "set/");  // a trailing separator changes neither names nor the name
  CHECK(slash.file_name(0) == "img10.png");
  CHECK(slash.name() == "set");
}

TEST_CASE("loader: InfiniteSampler order, window reshuffle and seek") {
  int64_t n = 10;
  InfiniteSampler plain(n, 5, 0.0);
  std::vector<int64_t> epoch;
  for (int64_t i = 0; i < n; ++i) epoch.push_back(plain.next());
  CHECK(std::set<int64_t>(epoch.begin(), epoch.end()).size() == size_t(n));  // a permutation
  for (int64_t i = 0; i < n; ++i) CHECK(plain.next() == epoch[i]);          // without a window, repeated
  InfiniteSampler other_seed(n, 6, 0.0);
  std::vector<int64_t> other;
  for (int64_t i = 0; i < n; ++i) other.push_back(other_seed.next());
  CHECK(other != epoch);

  InfiniteSampler windowed(n, 5, 0.5), replay(n, 5, 0.5);
  std::vector<int64_t> stream;
  std::map<int64_t, int> visits;
  for (int64_t i = 0; i < 8 * n; ++i) {
    stream.push_back(windowed.next());
    ++visits[stream.back()];
  }
  CHECK(visits.size() == size_t(n));  // every index comes up
  CHECK(stream[0] == epoch[0]);       // the same initial shuffle
  CHECK(std::vector<int64_t>(stream.begin() + n, stream.begin() + 2 * n) !=
        std::vector<int64_t>(stream.begin(), stream.begin() + n));  // passes differ
  replay.seek(37);
  CHECK(replay.position() == 37);
  for (int64_t i = 37; i < 8 * n; ++i) REQUIRE(replay.next() == stream[size_t(i)]);
  replay.seek(3);  // backwards: replayed from the start
  CHECK(replay.next() == stream[3]);
  CHECK_THROWS_WITH_ALL(InfiniteSampler(0, 1), "InfiniteSampler", "non-empty");
}

TEST_CASE("loader: seeded batches, x-flip, normalisation, resume and worker errors") {
  TempDir dir("loader");
  for (int i = 0; i < 6; ++i) put_png(dir / ("set/" + dataset_image_name(i)), pattern(4, 4, 3, 40 * i));
  DatasetOptions flip;
  flip.xflip = true;
  ImageDataset set(dir / "set", flip);
  REQUIRE(set.size() == 12);
  std::vector<uint8_t> img = dataset_image(set, 2), mirrored = dataset_image(set, 8);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) REQUIRE(mirrored[(c * 4 + y) * 4 + x] == img[(c * 4 + y) * 4 + 3 - x]);

  DataLoader a(set, 4, 11), b(set, 4, 11, 1, 1), c(set, 4, 12, 3, 2);
  LoaderBatch a1 = a.next(Device::CPU), b1 = b.next(Device::CPU);
  CHECK(a1.images.shape() == Shape{4, 3, 4, 4});
  CHECK(a1.labels.shape() == Shape{4, 0});
  CHECK(a1.images.dtype() == DType::Float32);
  CHECK_CLOSE(a1.images, b1.images, 0, 0);  // same seed, same order, whatever the threading
  CHECK_FALSE(test::compare(c.next(Device::CPU).images, a1.images, 0, 0).ok);

  // Each sample is x / 127.5 - 1 of one dataset image, in the sampler's order.
  InfiniteSampler order(set.size(), 11);
  std::vector<double> got = values(a1.images);
  for (int64_t i = 0; i < 4; ++i) {
    std::vector<uint8_t> expected = dataset_image(set, order.next());
    for (size_t p = 0; p < expected.size(); ++p)
      REQUIRE(got[size_t(i) * expected.size() + p] == double(float(expected[p]) / 127.5f - 1.0f));
  }

  LoaderState state = a.state();
  CHECK(state.seed == 11);
  CHECK(state.position == 4);
  std::vector<Tensor> ahead;
  for (int i = 0; i < 5; ++i) ahead.push_back(a.next(Device::CPU).images);
  c.set_state(state);  // a loader with another seed takes on the saved one
  for (int i = 0; i < 5; ++i) CHECK_CLOSE(c.next(Device::CPU).images, ahead[size_t(i)], 0, 0);
  CHECK_THROWS_WITH_ALL(c.set_state({11, 6}), "loader", "not a multiple of the batch size 4");

  // A file that goes bad after the dataset was opened: the worker's error reaches the caller.
  write_bytes(dir / "set/00000/img00000003.png", truncated(encode_png(pattern(4, 4, 3, 0))));
  put_png(dir / "set/00000/img00000004.png", pattern(8, 8, 3, 0));
  DataLoader bad(set, 12, 1);
  CHECK_THROWS_WITH_ALL(bad.next(Device::CPU), "loader:", "00000/img0000000");
  CHECK_THROWS_WITH_ALL(DataLoader(set, 0, 1), "loader", "batch must be positive");
}

TEST_CASE("loader: labels and random labels") {
  TempDir dir("loader_labels");
  std::string json = R"({"labels": [)";
  for (int i = 0; i < 5; ++i) {
    put_png(dir / ("set/" + dataset_image_name(i)), pattern(4, 4, 1, i));
    json += (i ? "," : "") + std::string("[\"") + dataset_image_name(i) + "\"," + std::to_string(i % 2 ? 3 : 0) + "]";
  }
  write_text(dir / "set/dataset.json", json + "]}");
  DatasetOptions o;
  o.use_labels = true;
  ImageDataset set(dir / "set", o);
  REQUIRE(set.label_dim() == 4);
  DataLoader loader(set, 3, 2);
  LoaderBatch batch = loader.next(Device::CPU);
  CHECK(batch.labels.shape() == Shape{3, 4});
  InfiniteSampler order(set.size(), 2);
  std::vector<double> labels = values(batch.labels);
  for (int64_t i = 0; i < 3; ++i) {
    std::vector<float> want = set.label(order.next());
    for (int k = 0; k < 4; ++k) CHECK(labels[size_t(i * 4 + k)] == want[size_t(k)]);
  }
  RandomGenerator gen(9);
  std::vector<double> random = values(loader.random_labels(50, Device::CPU, gen));
  std::map<int, int> classes;
  for (int i = 0; i < 50; ++i) {
    double sum = 0;
    for (int k = 0; k < 4; ++k) sum += random[size_t(i * 4 + k)];
    CHECK(sum == 1.0);
    ++classes[random[size_t(i * 4)] == 1 ? 0 : 3];
  }
  CHECK(classes.size() == 2);
}

TEST_CASE("loader: CUDA batches equal CPU batches (pinned staging, async copy)") {
  SG_REQUIRE_CUDA();
  TempDir dir("loader_cuda");
  for (int i = 0; i < 9; ++i) put_png(dir / ("set/" + dataset_image_name(i)), pattern(8, 8, 3, 17 * i));
  ImageDataset set(dir / "set");
  DataLoader gpu(set, 4, 5), cpu(set, 4, 5);
  for (int i = 0; i < 6; ++i) {  // more batches than slots: staging buffers are reused
    LoaderBatch g = gpu.next(Device::CUDA), c = cpu.next(Device::CPU);
    CHECK(g.images.device() == Device::CUDA);
    CHECK(g.labels.device() == Device::CUDA);
    CHECK(g.labels.shape() == Shape{4, 0});
    std::vector<double> v = values(c.images);
    CHECK(std::any_of(v.begin(), v.end(), [](double x) { return x != -1.0; }));
    CHECK_CLOSE(g.images, c.images, 0, 0);  // same bytes, same float32 division: exact
  }
}
