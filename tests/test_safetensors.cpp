// safetensors I/O: bitwise round trips of every dtype, metadata, atomic replacement, a shared
// fixture read through fixtures_dir(), and clear errors (naming the path) for missing, truncated
// and corrupt files.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/safetensors.h"
#include "tests/test_util.h"

using namespace sg;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temp dir, removed when the test ends.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) : path(fs::temp_directory_path() / name) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A file with the given JSON header and data bytes, in the format's framing.
std::string framed(const std::string& header, const std::string& data) {
  uint64_t n = header.size();
  return std::string(reinterpret_cast<const char*>(&n), 8) + header + data;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  Tensor ca = raw::contiguous(a), cb = raw::contiguous(b);
  return ca.dtype() == cb.dtype() && ca.shape() == cb.shape() &&
         std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.numel() * dtype_size(ca.dtype())) == 0;
}

// Tensors whose bytes exercise every dtype: NaN payloads, infinities, negative zero, subnormals
// and int64 values past 2^53 (which a round trip through double would corrupt).
std::map<std::string, Tensor> every_dtype() {
  std::map<std::string, Tensor> t;
  Tensor h = Tensor::empty({2, 3}, DType::Float16);
  const uint16_t half_bits[] = {0x7e01, 0x7c00, 0x8000, 0x0001, 0x3c00, 0xfbff};
  std::memcpy(h.data_ptr(), half_bits, sizeof(half_bits));
  t["f16"] = h;
  Tensor b = Tensor::empty({3}, DType::BFloat16);
  const uint16_t bf_bits[] = {0x7fc1, 0xff80, 0x0001};
  std::memcpy(b.data_ptr(), bf_bits, sizeof(bf_bits));
  t["bf16"] = b;
  Tensor f = Tensor::empty({2, 2}, DType::Float32);
  const uint32_t f_bits[] = {0x7fc00001, 0x80000000, 0x00000001, 0x3f800000};
  std::memcpy(f.data_ptr(), f_bits, sizeof(f_bits));
  t["f32"] = f;
  t["f64"] = Tensor::from_vector({-0.0, 1e-310, 3.141592653589793, -INFINITY}, {4}, DType::Float64);
  Tensor i = Tensor::empty({3}, DType::Int64);
  const int64_t i_values[] = {(int64_t(1) << 62) + 1, -1, std::numeric_limits<int64_t>::min()};
  std::memcpy(i.data_ptr(), i_values, sizeof(i_values));
  t["i64"] = i;
  t["u8"] = Tensor::from_vector({0, 255, 7}, {3}, DType::UInt8);
  t["scalar"] = Tensor::scalar(7, DType::Float32);
  t["empty"] = Tensor::zeros({0, 3}, DType::Float64);
  t["strided"] = raw::transpose(raw::reshape(Tensor::arange(6, DType::Float32), {2, 3}), 0, 1);
  t["name/with.punctuation"] = Tensor::ones({1});
  return t;
}

}  // namespace

TEST_CASE("safetensors: every dtype round trips bit for bit, with the metadata") {
  TempDir dir("sg_safetensors_round_trip");
  std::string path = dir.file("round.safetensors");
  std::map<std::string, Tensor> tensors = every_dtype();
  std::map<std::string, std::string> metadata = {
      {"kind", "test"}, {"json", "{\"a\": [1, 2]}"}, {"quotes", "a \"b\" \\ c\nd"}, {"empty", ""}, {"utf8", "r\xc3\xa9sum\xc3\xa9"}};
  save_safetensors(path, tensors, metadata);
  SafetensorsFile back = load_safetensors(path);
  CHECK(back.path == path);
  CHECK(back.metadata == metadata);
  CHECK(back.tensors.size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    CAPTURE(name);
    REQUIRE(back.has(name));
    CHECK(back.at(name).device() == Device::CPU);
    CHECK(same_bytes(back.at(name), t));  // a transposed view is written in its logical order
  }
  CHECK(back.at("strided").to_vector() == std::vector<double>{0, 3, 1, 4, 2, 5});
  // The index alone agrees with the full read, and the data is 8-byte aligned in the file.
  SafetensorsIndex index = read_safetensors_index(path);
  CHECK(index.data_start % 8 == 0);
  CHECK(index.metadata == metadata);
  CHECK(index.entries.at("f64").dtype == DType::Float64);
  CHECK(index.entries.at("f64").shape == Shape{4});
  CHECK(index.entries.at("f64").end - index.entries.at("f64").begin == 32);
  // No metadata at all is fine too.
  save_safetensors(path, {{"x", Tensor::ones({2})}});
  CHECK(load_safetensors(path).metadata.empty());
  // Reading a file written by another producer: keys in any order, no padding, metadata last.
  std::string other = dir.file("other.safetensors");
  float values[2] = {1.5f, -2.0f};
  write_bytes(other, framed("{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                            "\"__metadata__\":{\"k\":\"v\"}}",
                            std::string(reinterpret_cast<const char*>(values), 8)));
  SafetensorsFile o = load_safetensors(other);
  CHECK(o.metadata.at("k") == "v");
  CHECK(o.at("b").to_vector() == std::vector<double>{1.5, -2});
}

TEST_CASE("safetensors: writes are atomic and replace the target") {
  TempDir dir("sg_safetensors_atomic");
  std::string path = dir.file("ckpt.safetensors");
  save_safetensors(path, {{"a", Tensor::ones({100})}, {"b", Tensor::zeros({3})}});
  CHECK(fs::exists(path));
  CHECK_FALSE(fs::exists(path + ".tmp"));
  // A stale temporary from an interrupted save neither blocks nor survives the next save.
  write_bytes(path + ".tmp", "partial garbage");
  save_safetensors(path, {{"c", Tensor::full({2}, 4)}});
  CHECK_FALSE(fs::exists(path + ".tmp"));
  SafetensorsFile f = load_safetensors(path);
  CHECK(f.tensors.size() == 1);
  CHECK(f.at("c").to_vector() == std::vector<double>{4, 4});
  CHECK_THROWS_WITH_ALL(f.at("a"), path.c_str(), "no tensor 'a'");
  // A save that cannot be written leaves the old file untouched and names the path.
  std::string unwritable = dir.file("missing_dir/x.safetensors");
  CHECK_THROWS_WITH_ALL(save_safetensors(unwritable, {{"x", Tensor::ones({1})}}), "safetensors", "missing_dir/x.safetensors");
  CHECK(load_safetensors(path).at("c").to_vector() == std::vector<double>{4, 4});
  // CUDA tensors are written from the host copy.
  if (cuda_available()) {
    save_safetensors(path, {{"g", Tensor::arange(5, DType::Float16, Device::CUDA)}});
    CHECK(load_safetensors(path).at("g").to_vector() == std::vector<double>{0, 1, 2, 3, 4});
  }
}

TEST_CASE("safetensors: reads a shared fixture and its metadata") {
  std::string path = test::fixtures_dir() + "/ops_upfirdn2d.safetensors";
  SafetensorsFile f = load_safetensors(path);
  const Tensor& x = f.at("up2/x");
  CHECK(x.dtype() == DType::Float64);
  CHECK(x.shape() == Shape{2, 3, 10, 9});
  CHECK(f.at("up2/y").shape() == Shape{2, 3, 20, 18});
  // The filter: float32 values of the [1, 3, 3, 1] outer product over 64.
  const Tensor& filter = f.at("up2/f");
  CHECK(filter.dtype() == DType::Float32);
  CHECK(filter.shape() == Shape{4, 4});
  std::vector<double> fv = filter.to_vector();
  CHECK(fv[0] == 1.0 / 64);
  CHECK(fv[5] == 9.0 / 64);
  double total = 0;
  for (double v : fv) total += v;
  CHECK(total == 1.0);
  // `cases` is JSON: a list of objects, each naming tensors that exist in the file.
  REQUIRE(f.metadata.count("cases"));
  nlohmann::json cases = nlohmann::json::parse(f.metadata.at("cases"));
  REQUIRE(cases.is_array());
  CHECK(cases.size() >= 2);
  for (const auto& c : cases) {
    std::string name = c.at("name").get<std::string>();
    CAPTURE(name);
    CHECK(f.has(name + "/x"));
    CHECK(f.has(name + "/y"));
    CHECK(c.contains("up"));
    CHECK(c.contains("padding"));
  }
  CHECK(cases[0].at("name") == "up2");
  CHECK(cases[0].at("up") == 2);
  CHECK(f.metadata.at("op") == "upfirdn2d");
  CHECK(read_safetensors_index(path).entries.size() == f.tensors.size());
}

TEST_CASE("safetensors: missing, truncated and corrupt files are errors naming the path") {
  TempDir dir("sg_safetensors_bad");
  std::string missing = dir.file("missing.safetensors");
  CHECK_THROWS_WITH_ALL(load_safetensors(missing), "cannot open", missing.c_str());
  CHECK_THROWS_WITH_ALL(read_safetensors_index(missing), "cannot open", missing.c_str());
  std::string good = dir.file("good.safetensors");
  save_safetensors(good, {{"w", Tensor::ones({64})}});
  std::string data = read_bytes(good);

  struct Bad {
    const char* name;
    std::string bytes;
    const char* reason;
  };
  std::string bad_json = data;
  bad_json[8] = '#';  // the opening brace of the header
  uint64_t huge = ~uint64_t(0);  // a header length past any file (negative as a signed number)
  std::string huge_header = std::string(reinterpret_cast<const char*>(&huge), 8) + data.substr(8);
  std::string long_header = data;
  uint64_t too_long = data.size();
  std::memcpy(long_header.data(), &too_long, 8);
  const Bad cases[] = {
      {"empty", "", "too short"},
      {"tiny", "abc", "too short"},
      {"truncated data", data.substr(0, data.size() - 10), "outside the file"},
      {"truncated header", data.substr(0, 20), "exceeds the file size"},
      {"bad json", bad_json, "bad JSON header"},
      {"huge header length", huge_header, "exceeds the file size"},
      {"header length past the end", long_header, "exceeds the file size"},
      {"unknown dtype", framed(R"({"w":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}})", "x"), "unsupported dtype F8"},
      {"bytes do not match the shape",
       framed(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "abcd"), "4 bytes for shape [2]"},
      {"missing shape", framed(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", "abcd"), "bad header entry for 'w'"},
      {"reversed offsets", framed(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", "abcd"),
       "outside the file"},
      {"negative offsets", framed(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}})", "abcd"),
       "outside the file"},
      {"not an object", framed(R"([1, 2])", ""), "bad header entry"},
  };
  for (const Bad& c : cases) {
    CAPTURE(std::string(c.name));
    std::string path = dir.file(std::string("bad_") + std::to_string(&c - cases) + ".safetensors");
    write_bytes(path, c.bytes);
    CHECK_THROWS_WITH_ALL(load_safetensors(path), path.c_str(), c.reason);
  }
}
