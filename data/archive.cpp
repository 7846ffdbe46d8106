#include "data/archive.h"

#include <zip.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "data/image_io.h"
#include "engine/error.h"

namespace sg {

namespace fs = std::filesystem;

namespace {

std::string lower_extension(const std::string& name) {
  std::string ext = fs::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext;
}

bool ends_with_zip(const std::string& path) { return lower_extension(path) == ".zip"; }

}  // namespace

bool is_supported_image_name(const std::string& name) {
  std::string ext = lower_extension(name);
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

bool is_other_image_name(const std::string& name) {
  static const char* const kOther[] = {".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm",
                                       ".tga", ".ico", ".jp2", ".j2k", ".jfif", ".dib", ".pcx", ".sgi"};
  std::string ext = lower_extension(name);
  return std::any_of(std::begin(kOther), std::end(kOther), [&](const char* e) { return ext == e; });
}

Archive::Archive(const std::string& path) : path_(path) {
  std::error_code error;
  if (fs::is_directory(path, error)) {
    for (auto it = fs::recursive_directory_iterator(path, error); !error && it != fs::recursive_directory_iterator();
         it.increment(error))
      if (it->is_regular_file()) names_.push_back(it->path().lexically_relative(path).generic_string());
    SG_CHECK(!error, "archive: cannot list ", path, ": ", error.message());
    std::sort(names_.begin(), names_.end());
    return;
  }
  SG_CHECK(fs::is_regular_file(path, error), "archive: ", path, " does not exist or is neither a folder nor a file");
  SG_CHECK(ends_with_zip(path), "archive: ", path, " is a file but not a .zip archive");
  int code = 0;
  zip_ = zip_open(path.c_str(), ZIP_RDONLY, &code);
  if (!zip_) {
    zip_error_t zerror;
    zip_error_init_with_code(&zerror, code);
    std::string message = zip_error_strerror(&zerror);
    zip_error_fini(&zerror);
    SG_FAIL("archive: cannot open ", path, " as a zip: ", message);
  }
  zip_int64_t count = zip_get_num_entries(zip_, 0);
  std::vector<std::string> names;
  std::vector<uint64_t> indices;
  for (zip_int64_t i = 0; i < count; ++i) {
    const char* name = zip_get_name(zip_, zip_uint64_t(i), 0);
    if (!name) continue;
    std::string s = name;
    if (s.empty() || s.back() == '/') continue;  // directory entries
    names.push_back(s);
    indices.push_back(uint64_t(i));
  }
  std::vector<size_t> order(names.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return names[a] < names[b]; });
  for (size_t i : order) {
    names_.push_back(names[i]);
    zip_index_.push_back(indices[i]);
  }
}

Archive::~Archive() {
  if (zip_) zip_discard(zip_);  // read-only: nothing to write back
}

bool Archive::contains(const std::string& name) const { return std::binary_search(names_.begin(), names_.end(), name); }

std::vector<uint8_t> Archive::read(const std::string& name) const {
  auto it = std::lower_bound(names_.begin(), names_.end(), name);
  SG_CHECK(it != names_.end() && *it == name, "archive: ", describe(name), " not found");
  return read(int64_t(it - names_.begin()));
}

std::vector<uint8_t> Archive::read(int64_t file_index) const {
  SG_CHECK(file_index >= 0 && file_index < int64_t(names_.size()), "archive: file index ", file_index,
           " out of range for ", names_.size(), " files in ", path_);
  const std::string& name = names_[file_index];
  if (!zip_) return read_file((fs::path(path_) / name).string());
  std::lock_guard<std::mutex> lock(zip_mutex_);
  uint64_t index = zip_index_[file_index];
  zip_stat_t st;
  zip_stat_init(&st);
  SG_CHECK(zip_stat_index(zip_, index, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE), "archive: cannot stat ",
           describe(name), ": ", zip_strerror(zip_));
  zip_file_t* file = zip_fopen_index(zip_, index, 0);
  SG_CHECK(file != nullptr, "archive: cannot open ", describe(name), ": ", zip_strerror(zip_));
  std::vector<uint8_t> bytes(st.size);
  uint64_t done = 0;
  std::string error;
  while (done < st.size) {
    zip_int64_t got = zip_fread(file, bytes.data() + done, st.size - done);
    if (got <= 0) {
      error = got < 0 ? zip_file_strerror(file) : "unexpected end of entry";
      break;
    }
    done += uint64_t(got);
  }
  zip_fclose(file);
  SG_CHECK(error.empty(), "archive: cannot read ", describe(name), ": ", error);
  return bytes;
}

}  // namespace sg
