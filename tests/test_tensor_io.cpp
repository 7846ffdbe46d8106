// Tensor views and copies, printing, and safetensors I/O (round trip, atomic write, fixtures,
// corrupt files).
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/safetensors.h"
#include "ops/shape/shape.h"
#include "tests/test_util.h"

using namespace sg;
namespace fs = std::filesystem;

TEST_CASE("tensor: views share storage, reshape copies only when it must") {
  Tensor x = Tensor::arange(24, DType::Float64);
  Tensor v = raw::reshape(x, {2, 3, 4});
  CHECK(v.storage() == x.storage());
  Tensor p = raw::permute(v, {2, 0, 1});
  CHECK_FALSE(p.is_contiguous());
  Tensor merged = raw::reshape(p, {4, 6});  // the last two dims still merge: a view
  CHECK(merged.storage() == x.storage());
  Tensor flat = raw::reshape(p, {24});  // not expressible as a view: copies
  CHECK(flat.storage() != x.storage());
  CHECK(flat.to_vector()[1] == 4);
  Tensor n = raw::narrow(v, 2, 1, 2);
  CHECK(raw::reshape(raw::narrow(v, 0, 1, 1), {12}).storage() == x.storage());
  CHECK(n.to_vector() == std::vector<double>{1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22});
  Tensor e = raw::expand(raw::unsqueeze(Tensor::arange(3, DType::Float64), 0), {2, 3});
  CHECK(e.strides()[0] == 0);
  CHECK(raw::contiguous(e).to_vector() == std::vector<double>{0, 1, 2, 0, 1, 2});
  CHECK(Tensor::scalar(3).describe() == "float32[] on cpu");
  CHECK(Tensor::arange(3).to_string().find("[0, 1, 2]") != std::string::npos);
}

TEST_CASE("safetensors: round trip of every dtype and the metadata, written atomically") {
  fs::path dir = fs::temp_directory_path() / "sg_safetensors_test";
  fs::create_directories(dir);
  std::string path = (dir / "round.safetensors").string();
  std::map<std::string, Tensor> tensors;
  for (DType d : {DType::Float16, DType::BFloat16, DType::Float32, DType::Float64, DType::Int64, DType::UInt8})
    tensors[dtype_name(d)] = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3}, d);
  tensors["scalar"] = Tensor::scalar(7, DType::Float32);
  save_safetensors(path, tensors, {{"kind", "test"}, {"json", "{\"a\": 1}"}});
  CHECK_FALSE(fs::exists(path + ".tmp"));
  SafetensorsFile back = load_safetensors(path);
  CHECK(back.metadata.at("kind") == "test");
  CHECK(back.metadata.at("json") == "{\"a\": 1}");
  for (const auto& [name, t] : tensors) {
    CAPTURE(name);
    CHECK(back.at(name).dtype() == t.dtype());
    CHECK(back.at(name).shape() == t.shape());
    CHECK(back.at(name).to_vector() == t.to_vector());
  }
  save_safetensors(path, {{"x", Tensor::ones({1})}});  // replaces the old file
  CHECK(load_safetensors(path).tensors.size() == 1);
  fs::remove_all(dir);
}

TEST_CASE("safetensors: reads a shared fixture") {
  SafetensorsFile f = load_safetensors(test::fixtures_dir() + "/ops_upfirdn2d.safetensors");
  CHECK(f.metadata.count("cases"));
  CHECK(f.at("up2/x").dtype() == DType::Float64);
  CHECK(f.at("up2/x").dim() == 4);
  CHECK(f.at("up2/f").dtype() == DType::Float32);
}

TEST_CASE("safetensors: missing, truncated and corrupt files are clear errors naming the path") {
  fs::path dir = fs::temp_directory_path() / "sg_safetensors_bad";
  fs::create_directories(dir);
  std::string missing = (dir / "missing.safetensors").string();
  CHECK_THROWS_WITH_ALL(load_safetensors(missing), "cannot open", missing.c_str());
  std::string good = (dir / "good.safetensors").string();
  save_safetensors(good, {{"w", Tensor::ones({64})}});
  std::string data;
  {
    std::ifstream in(good, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::string truncated = (dir / "truncated.safetensors").string();
  std::ofstream(truncated, std::ios::binary) << data.substr(0, data.size() - 10);
  CHECK_THROWS_WITH_ALL(load_safetensors(truncated), truncated.c_str(), "outside the file");
  std::string corrupt = (dir / "corrupt.safetensors").string();
  std::string bad = data;
  bad[8] = '#';  // the opening brace of the JSON header
  std::ofstream(corrupt, std::ios::binary) << bad;
  CHECK_THROWS_WITH_ALL(load_safetensors(corrupt), corrupt.c_str(), "bad JSON header");
  std::string tiny = (dir / "tiny.safetensors").string();
  std::ofstream(tiny, std::ios::binary) << "abc";
  CHECK_THROWS_WITH_ALL(load_safetensors(tiny), tiny.c_str(), "too short");
  fs::remove_all(dir);
}
