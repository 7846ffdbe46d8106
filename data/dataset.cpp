#include "data/dataset.h"

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "data/archive.h"
#include "data/dataset_json.h"
#include "data/image_io.h"
#include "engine/philox.h"

namespace sg {

namespace fs = std::filesystem;

DatasetLabels read_dataset_labels(const Archive& archive) {
  DatasetLabels result;
  if (!archive.contains("dataset.json")) return result;
  std::string where = archive.describe("dataset.json");
  std::vector<uint8_t> bytes = archive.read("dataset.json");
  nlohmann::json doc = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  SG_CHECK(!doc.is_discarded() && doc.is_object(), "dataset: ", where, " is not a JSON object");
  if (!doc.contains("labels") || doc["labels"].is_null()) return result;
  const nlohmann::json& labels = doc["labels"];
  SG_CHECK(labels.is_array(), "dataset: ", where, ": expected \"labels\" to be a list of [file, label] or null");
  for (const nlohmann::json& entry : labels) {
    SG_CHECK(entry.is_array() && entry.size() == 2 && entry[0].is_string(), "dataset: ", where,
             ": expected [file, label] entries in \"labels\", got ", entry.dump());
    std::string name = entry[0].get<std::string>();
    std::replace(name.begin(), name.end(), '\\', '/');  // as official: Windows-made files
    result.by_name[name] = entry[1];
  }
  result.found = true;
  return result;
}

ImageDataset::ImageDataset(const std::string& path, DatasetOptions options)
    : path_(path), options_(options), archive_(std::make_unique<Archive>(path)) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  name_ = fs::path(trimmed).filename().string();
  if (archive_->is_zip()) name_ = fs::path(name_).stem().string();

  const std::vector<std::string>& names = archive_->files();
  for (int64_t i = 0; i < int64_t(names.size()); ++i) {
    SG_CHECK(!is_other_image_name(names[i]), "dataset: ", archive_->describe(names[i]),
             " is an image format this build cannot read (PNG and JPEG only); convert it with dataset_tool");
    if (is_supported_image_name(names[i])) files_.push_back(i);
  }
  SG_CHECK(!files_.empty(), "dataset: no PNG or JPEG images found in ", path);

  // The first image fixes the shape, as the official dataset does.
  const std::string& first = names[files_[0]];
  Image image = decode_image(archive_->read(files_[0]), archive_->describe(first));
  SG_CHECK(image.width == image.height && image.width >= 4 && (image.width & (image.width - 1)) == 0, "dataset: ",
           archive_->describe(first), " is ", image.width, "x", image.height,
           "; datasets need square images of a power-of-two resolution >= 4 (make one with dataset_tool --resolution)");
  resolution_ = image.width;
  channels_ = image.channels;

  if (options.use_labels) {
    DatasetLabels labels = read_dataset_labels(*archive_);
    SG_CHECK(labels.found, "dataset: ", path, " has no labels (no dataset.json, or its labels are null)",
             " but conditioning was requested (--cond)");
    // All labels must be integers (one-hot) or all lists of numbers of one length (float vectors).
    std::vector<const nlohmann::json*> values;
    for (int64_t f : files_) {
      auto it = labels.by_name.find(names[f]);
      SG_CHECK(it != labels.by_name.end(), "dataset: ", archive_->describe("dataset.json"), " has no label for ",
               names[f]);
      values.push_back(&it->second);
    }
    bool integers = values[0]->is_number_integer();
    if (integers) {
      int64_t max_label = 0;
      for (size_t i = 0; i < values.size(); ++i) {
        SG_CHECK(values[i]->is_number_integer() && values[i]->get<int64_t>() >= 0, "dataset: label of ",
                 names[files_[i]], " is ", values[i]->dump(), "; expected a class index >= 0 like the first label");
        max_label = std::max(max_label, values[i]->get<int64_t>());
      }
      SG_CHECK(max_label < (1 << 20), "dataset: class index ", max_label, " is implausibly large");
      label_dim_ = int(max_label + 1);
      labels_.assign(values.size() * label_dim_, 0.0f);
      for (size_t i = 0; i < values.size(); ++i) labels_[i * label_dim_ + values[i]->get<int64_t>()] = 1.0f;
    } else {
      SG_CHECK(values[0]->is_array() && !values[0]->empty(), "dataset: label of ", names[files_[0]], " is ",
               values[0]->dump(), "; expected a class index or a list of numbers");
      label_dim_ = int(values[0]->size());
      labels_.reserve(values.size() * label_dim_);
      for (size_t i = 0; i < values.size(); ++i) {
        bool ok = values[i]->is_array() && int(values[i]->size()) == label_dim_ &&
                  std::all_of(values[i]->begin(), values[i]->end(), [](const nlohmann::json& v) { return v.is_number(); });
        SG_CHECK(ok, "dataset: label of ", names[files_[i]], " is ", values[i]->dump(), "; expected a list of ",
                 label_dim_, " numbers like the first label");
        for (const nlohmann::json& v : *values[i]) labels_.push_back(v.get<float>());
      }
    }
  }

  int64_t n = int64_t(files_.size());
  raw_index_.resize(n);
  std::iota(raw_index_.begin(), raw_index_.end(), 0);
  if (options.max_size >= 0 && options.max_size < n) {
    // Fisher-Yates on Philox draws, then the kept indices in sorted order (as official). The key
    // is offset from the seed so these draws differ from the loader's, which uses the seed itself.
    const uint64_t key = options.seed ^ 0x9E3779B97F4A7C15ull;
    for (int64_t i = n - 1; i > 0; --i) {
      int64_t j = std::min(int64_t(uniform_double(key, uint64_t(i)) * double(i + 1)), i);
      std::swap(raw_index_[i], raw_index_[j]);
    }
    raw_index_.resize(options.max_size);
    std::sort(raw_index_.begin(), raw_index_.end());
  }
}

ImageDataset::~ImageDataset() = default;

int64_t ImageDataset::size() const { return int64_t(raw_index_.size()) * (options_.xflip ? 2 : 1); }

int64_t ImageDataset::stored(int64_t index) const {
  SG_CHECK(index >= 0 && index < size(), "dataset: index ", index, " out of range for ", size(), " images");
  return raw_index_[index % int64_t(raw_index_.size())];
}

const std::string& ImageDataset::file_name(int64_t index) const { return archive_->files()[files_[stored(index)]]; }

void ImageDataset::read_image(int64_t index, uint8_t* dst) const {
  int64_t f = files_[stored(index)];
  std::string where = archive_->describe(archive_->files()[f]);
  Image image = decode_image(archive_->read(f), where);
  SG_CHECK(image.width == resolution_ && image.height == resolution_ && image.channels == channels_, "dataset: ", where,
           " is ", image.width, "x", image.height, " with ", image.channels, " channel(s); the dataset's first image is ",
           resolution_, "x", resolution_, " with ", channels_, " (all images must match)");
  bool mirrored = index >= int64_t(raw_index_.size());
  int64_t plane = int64_t(resolution_) * resolution_;
  // HWC -> CHW, reading columns right to left for the mirrored copy.
  for (int c = 0; c < channels_; ++c)
    for (int y = 0; y < resolution_; ++y) {
      const uint8_t* src = image.pixels.data() + size_t(y) * resolution_ * channels_ + c;
      uint8_t* out = dst + c * plane + int64_t(y) * resolution_;
      for (int x = 0; x < resolution_; ++x) out[x] = src[size_t(mirrored ? resolution_ - 1 - x : x) * channels_];
    }
}

std::vector<float> ImageDataset::label(int64_t index) const {
  int64_t s = stored(index);
  if (label_dim_ == 0) return {};
  return std::vector<float>(labels_.begin() + s * label_dim_, labels_.begin() + (s + 1) * label_dim_);
}

DatasetItem ImageDataset::get(int64_t index) const {
  DatasetItem item;
  item.image.resize(size_t(image_bytes()));
  read_image(index, item.image.data());
  item.label = label(index);
  return item;
}

}  // namespace sg
