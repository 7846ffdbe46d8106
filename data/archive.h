// A folder (walked recursively) or a ZIP archive (libzip; stored or deflated entries), seen as one
// sorted list of files. Names are relative paths with '/' separators, sorted by byte order, which is
// the order Python's sorted() gives the official dataset code for UTF-8 names. Reads are
// thread-safe: a zip handle serves one read at a time, folders need no lock.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct zip;

namespace sg {

class Archive {
 public:
  explicit Archive(const std::string& path);  // a directory, or a file ending in .zip
  ~Archive();
  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;

  const std::string& path() const { return path_; }
  bool is_zip() const { return zip_ != nullptr; }
  const std::vector<std::string>& files() const { return names_; }
  bool contains(const std::string& name) const;
  std::vector<uint8_t> read(const std::string& name) const;
  std::vector<uint8_t> read(int64_t file_index) const;
  // "<archive>/<name>" for messages.
  std::string describe(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
  zip* zip_ = nullptr;
  std::vector<std::string> names_;       // sorted
  std::vector<uint64_t> zip_index_;      // names_[i] is entry zip_index_[i] of the zip
  mutable std::mutex zip_mutex_;
};

// Lower-case extension test used for dataset and tool inputs: .png, .jpg, .jpeg.
bool is_supported_image_name(const std::string& name);
// Other extensions PIL would read as images (.bmp, .gif, .tif, .webp, ...): found but not
// decodable by this build, which the dataset reports instead of silently ignoring.
bool is_other_image_name(const std::string& name);

}  // namespace sg
