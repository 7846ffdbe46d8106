// safetensors files: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then raw little-endian
// data. Used for checkpoints, network state dicts and the reference fixtures.
#pragma once
#include <map>
#include <string>

#include "engine/tensor.h"

namespace sg {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;  // CPU tensors in the file's dtypes
  std::map<std::string, std::string> metadata;

  // The named tensor; a clear error naming the file's path when it is absent.
  const Tensor& at(const std::string& name) const;
  bool has(const std::string& name) const { return tensors.count(name) > 0; }
  std::string path;
};

// Reads the whole file. Bad headers, unknown dtypes and truncated data are reported with the path.
SafetensorsFile load_safetensors(const std::string& path);

// The header alone, for reading parts of large files (datasets) without loading them.
struct SafetensorsEntry {
  DType dtype;
  Shape shape;
  int64_t begin, end;  // byte offsets from data_start
};
struct SafetensorsIndex {
  std::string path;
  int64_t data_start = 0;
  std::map<std::string, SafetensorsEntry> entries;
  std::map<std::string, std::string> metadata;
};
SafetensorsIndex read_safetensors_index(const std::string& path);

// Writes atomically: the data goes to `path.tmp`, is flushed, and then renamed over `path`, so a
// crash never leaves a partial file under the final name. Tensors may live on any device.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace sg
