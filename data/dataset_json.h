// dataset.json, the label file of the official dataset format (see data/dataset.h), shared by the
// dataset reader and dataset_tool.
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "data/archive.h"

namespace sg {

// The "labels" entries of <archive>/dataset.json by file name; `found` is false when the file is
// absent or its labels are null. Malformed files throw sg::Error naming the file.
struct DatasetLabels {
  bool found = false;
  std::map<std::string, nlohmann::json> by_name;
};
DatasetLabels read_dataset_labels(const Archive& archive);

}  // namespace sg
