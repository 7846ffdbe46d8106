// Dataset tool, dataset reader and loader on generated images: a corrupt PNG is skipped and
// counted, bad resolutions are refused, labels and x-flips work, the loader's order is seeded and
// its position restorable.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <zlib.h>

#include "data/dataset.h"
#include "data/dataset_tool.h"
#include "data/image_io.h"
#include "tests/test_util.h"

using namespace sg;
namespace fs = std::filesystem;

namespace {

void write_test_png(const fs::path& path, int size, int channels, uint8_t base) {
  Image image;
  image.width = image.height = size;
  image.channels = channels;
  image.pixels.resize(size_t(size) * size * channels);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = uint8_t(base + i);
  write_png(path.string(), image);
}

void write_idx(const fs::path& path, uint32_t magic, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data,
               bool gzip) {
  std::vector<uint8_t> bytes;
  for (uint32_t v : std::vector<uint32_t>{magic}) for (int s = 24; s >= 0; s -= 8) bytes.push_back(uint8_t(v >> s));
  for (uint32_t d : dims) for (int s = 24; s >= 0; s -= 8) bytes.push_back(uint8_t(d >> s));
  bytes.insert(bytes.end(), data.begin(), data.end());
  if (gzip) {
    gzFile f = gzopen(path.string().c_str(), "wb");
    gzwrite(f, bytes.data(), unsigned(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }
}

}  // namespace

TEST_CASE("data: PNG folder to dataset, corrupt files skipped and counted") {
  fs::path dir = fs::temp_directory_path() / "sg_data_png";
  fs::remove_all(dir);
  fs::create_directories(dir / "sub");
  write_test_png(dir / "b.png", 16, 3, 10);
  write_test_png(dir / "a.png", 16, 3, 20);
  write_test_png(dir / "sub" / "c.png", 16, 3, 30);
  std::ofstream(dir / "broken.png", std::ios::binary) << std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  std::ofstream(dir / "notes.txt") << "not an image";
  DatasetToolOptions o;
  o.source = dir.string();
  o.dest = (dir / "out" / "set.safetensors").string();
  o.resolution = 8;
  o.verbose = false;
  DatasetToolReport r = convert_dataset(o);
  CHECK(r.written == 3);
  CHECK(r.skipped == 1);
  CHECK(r.channels == 3);
  ImageDataset set(o.dest);
  CHECK(set.size() == 3);
  CHECK(set.resolution() == 8);
  std::vector<uint8_t> first(3 * 8 * 8);
  set.read_image(0, first.data());
  // a.png sorts first. Its red channel at (0, 0) is the mean of the 2x2 source block: pixel
  // values base + 3 * (y * 16 + x) for x, y in {0, 1}, base 20.
  CHECK(first[0] == uint8_t(std::lround((20 + 23 + 68 + 71) / 4.0)));

  o.resolution = 12;
  CHECK_THROWS_WITH_ALL(convert_dataset(o), "--resolution must be a power of two", "12");
  o.resolution = 0;
  fs::path odd = dir / "odd";
  fs::create_directories(odd);
  write_test_png(odd / "x.png", 12, 1, 0);
  o.source = odd.string();
  CHECK_THROWS_WITH_ALL(convert_dataset(o), "power-of-two resolution");
  fs::remove_all(dir);
}

TEST_CASE("data: IDX files (gzip and plain) with labels, padded 28 -> 32, x-flip and loader") {
  fs::path dir = fs::temp_directory_path() / "sg_data_idx";
  fs::remove_all(dir);
  fs::create_directories(dir);
  int n = 10;
  std::vector<uint8_t> pixels(size_t(n) * 28 * 28), labels(n);
  for (int i = 0; i < n; ++i) {
    labels[i] = uint8_t(i % 3);
    for (int p = 0; p < 28 * 28; ++p) pixels[size_t(i) * 784 + p] = uint8_t((i * 7 + p) % 251);
  }
  for (bool gzip : {true, false}) {
    std::string suffix = gzip ? ".gz" : "";
    write_idx(dir / ("train-images-idx3-ubyte" + suffix), 0x803, {uint32_t(n), 28, 28}, pixels, gzip);
    write_idx(dir / ("train-labels-idx1-ubyte" + suffix), 0x801, {uint32_t(n)}, labels, gzip);
    DatasetToolOptions o;
    o.source = (dir / ("train-images-idx3-ubyte" + suffix)).string();
    o.dest = (dir / "idx.safetensors").string();
    o.resolution = 32;
    o.transform = "pad";
    o.verbose = false;
    DatasetToolReport r = convert_dataset(o);
    CHECK(r.written == n);
    CHECK(r.has_labels);
    DatasetOptions options;
    options.use_labels = true;
    options.xflip = true;
    ImageDataset set(o.dest, options);
    CHECK(set.size() == 2 * n);
    CHECK(set.label_dim() == 3);
    CHECK(set.label(4) == std::vector<float>{0, 1, 0});
    std::vector<uint8_t> img(32 * 32), mirrored(32 * 32);
    set.read_image(1, img.data());
    set.read_image(1 + n, mirrored.data());
    CHECK(img[0] == 0);                 // the zero padding border
    CHECK(img[2 * 32 + 2] == pixels[784]);  // first source pixel lands at (2, 2)
    CHECK(mirrored[2 * 32 + 29] == img[2 * 32 + 2]);
  }

  ImageDataset set((dir / "idx.safetensors").string());
  DataLoader a(set, 4, 11), b(set, 4, 11), c(set, 4, 12);
  Tensor a1 = a.next(Device::CPU).first, b1 = b.next(Device::CPU).first;
  CHECK_CLOSE(a1, b1, 0, 0);  // same seed, same order
  CHECK_FALSE(test::compare(c.next(Device::CPU).first, a1, 0, 0).ok);
  CHECK(a1.to_vector()[0] == -1.0);  // padding pixel 0 -> -1
  std::string state = a.state();
  Tensor a2 = a.next(Device::CPU).first, a3 = a.next(Device::CPU).first;
  b.set_state(state);
  CHECK_CLOSE(b.next(Device::CPU).first, a2, 0, 0);
  CHECK_CLOSE(b.next(Device::CPU).first, a3, 0, 0);
  CHECK_THROWS_WITH_ALL(ImageDataset((dir / "missing.safetensors").string()), "cannot open");
  DatasetOptions cond;
  cond.use_labels = true;
  DatasetToolOptions nolabels;
  nolabels.source = (dir / "train-images-idx3-ubyte").string();
  nolabels.dest = (dir / "nolabels.safetensors").string();
  nolabels.resolution = 32;
  nolabels.transform = "pad";
  nolabels.labels = false;
  nolabels.verbose = false;
  convert_dataset(nolabels);
  CHECK_THROWS_WITH_ALL(ImageDataset(nolabels.dest, cond), "no labels", "--cond");
  fs::remove_all(dir);
}
