// The entries of a zip archive held in memory, as torch.save writes them: stored, never
// compressed (torch aligns each record to 64 bytes so storages can be mapped in place). The
// central directory is the only index trusted, and only after every offset and size in it is
// checked against the file; zip64 records are followed for archives past 4 GiB. A compressed,
// encrypted or out-of-bounds entry is BAD_WEIGHTS.
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace sie {

struct ZipEntry {
  const uint8_t* data;
  uint64_t size;
};

class ZipArchive {
 public:
  // `data` must outlive the archive; `path` names the file in errors.
  ZipArchive(const uint8_t* data, uint64_t size, const std::string& path);
  const std::map<std::string, ZipEntry>& entries() const { return entries_; }
  bool has(const std::string& name) const { return entries_.count(name) != 0; }
  const ZipEntry& get(const std::string& name) const;

 private:
  std::string path_;
  std::map<std::string, ZipEntry> entries_;
};

bool looks_like_zip(const uint8_t* data, uint64_t size);

}  // namespace sie
