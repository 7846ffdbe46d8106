#include "engine/safetensors.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace sg {

namespace {

DType parse_dtype(const std::string& name, const std::string& path, const std::string& tensor) {
  if (name == "F16") return DType::Float16;
  if (name == "BF16") return DType::BFloat16;
  if (name == "F32") return DType::Float32;
  if (name == "F64") return DType::Float64;
  if (name == "I64") return DType::Int64;
  if (name == "U8") return DType::UInt8;
  SG_FAIL("safetensors: ", path, ": tensor '", tensor, "' has unsupported dtype ", name);
}

const char* dtype_code(DType dtype) {
  switch (dtype) {
    case DType::Float16: return "F16";
    case DType::BFloat16: return "BF16";
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
    case DType::UInt8: return "U8";
  }
  return "?";
}

}  // namespace

const Tensor& SafetensorsFile::at(const std::string& name) const {
  auto it = tensors.find(name);
  SG_CHECK(it != tensors.end(), "safetensors: ", path, " has no tensor '", name, "'");
  return it->second;
}

SafetensorsIndex read_safetensors_index(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  SG_CHECK(in.good(), "safetensors: cannot open ", path);
  in.seekg(0, std::ios::end);
  int64_t file_size = in.tellg();
  in.seekg(0);
  uint64_t header_size = 0;
  SG_CHECK(file_size >= 8 && in.read(reinterpret_cast<char*>(&header_size), 8), "safetensors: ", path,
           " is too short to be a safetensors file");
  SG_CHECK(header_size <= uint64_t(file_size - 8), "safetensors: ", path, ": header length ", header_size,
           " exceeds the file size ", file_size);
  std::string header(header_size, '\0');
  in.read(header.data(), int64_t(header_size));
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(header);
  } catch (const std::exception& e) {
    SG_FAIL("safetensors: ", path, ": bad JSON header: ", e.what());
  }
  SafetensorsIndex index;
  index.path = path;
  index.data_start = 8 + int64_t(header_size);
  int64_t data_size = file_size - index.data_start;
  for (auto& [name, entry] : json.items()) {
    if (name == "__metadata__") {
      for (auto& [key, value] : entry.items())
        index.metadata[key] = value.is_string() ? value.get<std::string>() : value.dump();
      continue;
    }
    try {
      DType dtype = parse_dtype(entry.at("dtype").get<std::string>(), path, name);
      Shape shape = entry.at("shape").get<Shape>();
      auto offsets = entry.at("data_offsets").get<std::vector<int64_t>>();
      SG_CHECK(offsets.size() == 2 && offsets[0] >= 0 && offsets[0] <= offsets[1] && offsets[1] <= data_size,
               "safetensors: ", path, ": tensor '", name, "' has data offsets outside the file");
      SG_CHECK(offsets[1] - offsets[0] == shape_numel(shape) * int64_t(dtype_size(dtype)), "safetensors: ", path,
               ": tensor '", name, "' has ", offsets[1] - offsets[0], " bytes for shape ", shape_str(shape));
      index.entries[name] = {dtype, shape, offsets[0], offsets[1]};
    } catch (const nlohmann::json::exception& e) {
      SG_FAIL("safetensors: ", path, ": bad header entry for '", name, "': ", e.what());
    }
  }
  return index;
}

SafetensorsFile load_safetensors(const std::string& path) {
  SafetensorsIndex index = read_safetensors_index(path);
  std::ifstream in(path, std::ios::binary);
  SafetensorsFile file;
  file.path = path;
  file.metadata = index.metadata;
  for (const auto& [name, e] : index.entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype, Device::CPU);
    in.seekg(index.data_start + e.begin);
    in.read(static_cast<char*>(t.data_ptr()), e.end - e.begin);
    SG_CHECK(in.good(), "safetensors: ", path, ": could not read tensor '", name, "'");
    file.tensors[name] = t;
  }
  return file;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<Tensor> packed;
  int64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    Tensor host = raw::contiguous(raw::to(t, t.dtype(), Device::CPU));
    int64_t bytes = host.numel() * int64_t(dtype_size(host.dtype()));
    header[name] = {{"dtype", dtype_code(host.dtype())}, {"shape", host.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    packed.push_back(host);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned
  uint64_t header_size = text.size();

  std::string tmp = path + ".tmp";
  FILE* out = std::fopen(tmp.c_str(), "wb");
  SG_CHECK(out != nullptr, "safetensors: cannot write ", tmp);
  bool ok = std::fwrite(&header_size, 8, 1, out) == 1 && std::fwrite(text.data(), 1, text.size(), out) == text.size();
  for (const Tensor& t : packed) {
    size_t bytes = size_t(t.numel()) * dtype_size(t.dtype());
    ok = ok && (bytes == 0 || std::fwrite(t.data_ptr(), 1, bytes, out) == bytes);
  }
  ok = ok && std::fflush(out) == 0 && fsync(fileno(out)) == 0;
  ok = (std::fclose(out) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    SG_FAIL("safetensors: failed writing ", tmp, " (disk full?)");
  }
  SG_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "safetensors: cannot rename ", tmp, " to ", path);
}

}  // namespace sg
