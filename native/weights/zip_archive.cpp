#include "zip_archive.h"

#include <algorithm>

#include "weight_store.h"

namespace sie {
namespace {

constexpr uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50, kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64EndOfDirectory = 0x06064b50, kZip64Locator = 0x07064b50;
constexpr uint64_t kMaxEntries = 1u << 20;  // a checkpoint has one entry per storage: thousands, not millions

// Little-endian reads that never leave [data, data + size).
class Reader {
 public:
  Reader(const uint8_t* data, uint64_t size, const std::string& path) : data_(data), size_(size), path_(path) {}
  void need(uint64_t at, uint64_t bytes, const char* what) const {
    if (at > size_ || bytes > size_ - at) throw_bad_weights(path_, std::string("truncated zip archive (") + what + ")");
  }
  uint64_t uint(uint64_t at, int bytes, const char* what) const {
    need(at, uint64_t(bytes), what);
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | data_[at + uint64_t(i)];
    return v;
  }
  const uint8_t* at(uint64_t offset) const { return data_ + offset; }
  uint64_t size() const { return size_; }

 private:
  const uint8_t* data_;
  uint64_t size_;
  const std::string& path_;
};

// The end-of-central-directory record: the last signature match in the final 64 KiB + 22 bytes.
uint64_t find_end_of_directory(const Reader& r, const std::string& path) {
  if (r.size() < 22) throw_bad_weights(path, "not a zip archive (shorter than its end record)");
  const uint64_t lowest = r.size() > 65557 ? r.size() - 65557 : 0;
  for (uint64_t at = r.size() - 22;; --at) {
    if (r.uint(at, 4, "end record") == kEndOfDirectory) return at;
    if (at == lowest) break;
  }
  throw_bad_weights(path, "not a zip archive (no end of central directory)");
}

// Replaces 0xFFFF.. sentinels in a central entry by the values of its zip64 extra field.
void read_zip64_extra(const Reader& r, uint64_t extra, uint64_t extra_len, uint64_t* uncompressed, uint64_t* compressed,
                      uint64_t* local_offset, const std::string& path) {
  for (uint64_t at = extra; at + 4 <= extra + extra_len;) {
    const uint64_t id = r.uint(at, 2, "extra field"), len = r.uint(at + 2, 2, "extra field");
    if (at + 4 + len > extra + extra_len) throw_bad_weights(path, "zip extra field overruns its entry");
    if (id == 1) {
      uint64_t field = at + 4;
      for (uint64_t* value : {uncompressed, compressed, local_offset}) {
        if (*value != 0xFFFFFFFFu) continue;
        if (field + 8 > at + 4 + len) throw_bad_weights(path, "zip64 extra field is too short");
        *value = r.uint(field, 8, "zip64 field");
        field += 8;
      }
      return;
    }
    at += 4 + len;
  }
}

}  // namespace

bool looks_like_zip(const uint8_t* data, uint64_t size) {
  return size >= 4 && data[0] == 'P' && data[1] == 'K' && data[2] == 3 && data[3] == 4;
}

ZipArchive::ZipArchive(const uint8_t* data, uint64_t size, const std::string& path) : path_(path) {
  const Reader r(data, size, path);
  const uint64_t end = find_end_of_directory(r, path);
  uint64_t count = r.uint(end + 10, 2, "end record");
  uint64_t directory_size = r.uint(end + 12, 4, "end record");
  uint64_t directory = r.uint(end + 16, 4, "end record");
  if (count == 0xFFFF || directory == 0xFFFFFFFFu || directory_size == 0xFFFFFFFFu) {
    if (end < 20 || r.uint(end - 20, 4, "zip64 locator") != kZip64Locator) throw_bad_weights(path, "zip64 locator missing");
    const uint64_t record = r.uint(end - 20 + 8, 8, "zip64 locator");
    if (r.uint(record, 4, "zip64 end record") != kZip64EndOfDirectory) throw_bad_weights(path, "zip64 end record missing");
    count = r.uint(record + 32, 8, "zip64 end record");
    directory_size = r.uint(record + 40, 8, "zip64 end record");
    directory = r.uint(record + 48, 8, "zip64 end record");
  }
  if (count > kMaxEntries) throw_bad_weights(path, "zip archive lists " + std::to_string(count) + " entries");
  r.need(directory, directory_size, "central directory");

  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  uint64_t at = directory;
  for (uint64_t i = 0; i < count; ++i) {
    if (at + 46 > directory + directory_size || r.uint(at, 4, "central entry") != kCentralHeader)
      throw_bad_weights(path, "zip central directory entry " + std::to_string(i) + " is malformed");
    const uint64_t flags = r.uint(at + 8, 2, "central entry"), method = r.uint(at + 10, 2, "central entry");
    uint64_t compressed = r.uint(at + 20, 4, "central entry"), uncompressed = r.uint(at + 24, 4, "central entry");
    const uint64_t name_len = r.uint(at + 28, 2, "central entry"), extra_len = r.uint(at + 30, 2, "central entry");
    const uint64_t comment_len = r.uint(at + 32, 2, "central entry");
    uint64_t local = r.uint(at + 42, 4, "central entry");
    r.need(at + 46, name_len + extra_len + comment_len, "central entry");
    const std::string name(reinterpret_cast<const char*>(r.at(at + 46)), size_t(name_len));
    read_zip64_extra(r, at + 46 + name_len, extra_len, &uncompressed, &compressed, &local, path);
    if (flags & 1) throw_bad_weights(path, "zip entry '" + name + "' is encrypted");
    if (method != 0 || compressed != uncompressed)
      throw_bad_weights(path, "zip entry '" + name + "' is compressed (method " + std::to_string(method) +
                                  "); torch checkpoints store entries uncompressed");
    if (r.uint(local, 4, "local header") != kLocalHeader) throw_bad_weights(path, "zip entry '" + name + "' has no local header");
    const uint64_t data_at = local + 30 + r.uint(local + 26, 2, "local header") + r.uint(local + 28, 2, "local header");
    r.need(data_at, uncompressed, ("entry " + name).c_str());
    if (!entries_.emplace(name, ZipEntry{r.at(data_at), uncompressed}).second)
      throw_bad_weights(path, "zip archive holds '" + name + "' twice");
    if (uncompressed > 0) ranges.emplace_back(data_at, data_at + uncompressed);
    at += 46 + name_len + extra_len + comment_len;
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) throw_bad_weights(path, "zip entries overlap");
}

const ZipEntry& ZipArchive::get(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw_bad_weights(path_, "zip archive has no entry '" + name + "'");
  return it->second;
}

}  // namespace sie
