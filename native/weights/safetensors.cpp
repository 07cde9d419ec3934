#include "safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "../core/engine_error.h"
#include <nlohmann/json.hpp>

namespace sie {
namespace {

using json = nlohmann::json;

// Real headers are a few hundred KB at most; anything far larger is hostile or broken.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
constexpr int kMaxHeaderDepth = 8;

[[noreturn]] void bad_weights(const std::string& path, const std::string& what) { throw_bad_weights(path, what); }

bool parse_dtype(const std::string& name, DType* dtype, size_t* size) {
  static const struct { const char* name; DType dtype; size_t size; } kTable[] = {
      {"F32", DType::F32, 4}, {"F16", DType::F16, 2}, {"BF16", DType::BF16, 2}, {"F64", DType::F64, 8},
      {"I64", DType::I64, 8}, {"I32", DType::I32, 4}, {"I16", DType::I16, 2},   {"I8", DType::I8, 1},
      {"U8", DType::U8, 1},   {"BOOL", DType::Bool, 1}};
  for (const auto& row : kTable)
    if (name == row.name) {
      *dtype = row.dtype;
      *size = row.size;
      return true;
    }
  return false;
}

const json* field(const json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : WeightStore(path), file_(path) {
  parse_safetensors(file_.data(), file_.size(), path, tensors_);
}

void parse_safetensors(const uint8_t* bytes, size_t size, const std::string& path, std::map<std::string, TensorView>& tensors) {
  if (size < 8) bad_weights(path, "file is shorter than the 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > kMaxHeaderBytes || header_len > size - 8)
    bad_weights(path, "header length " + std::to_string(header_len) + " exceeds the file or the 100 MiB bound");
  const char* text = reinterpret_cast<const char*>(bytes + 8);
  json header;
  try {
    // A real header is two levels deep; the bound refuses hostile nesting before it costs memory.
    header = json::parse(text, text + header_len, [](int depth, json::parse_event_t, json&) {
      if (depth > kMaxHeaderDepth) throw json::other_error::create(599, "nesting deeper than " + std::to_string(kMaxHeaderDepth), nullptr);
      return true;
    });
  } catch (const json::exception& e) {
    bad_weights(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) bad_weights(path, "header is not a JSON object");
  const uint8_t* data_start = bytes + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;

  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = "tensor '" + name + "'";
    if (!entry.is_object()) bad_weights(path, where + " entry is not an object");
    const json* dtype_field = field(entry, "dtype");
    const json* shape_field = field(entry, "shape");
    const json* offsets_field = field(entry, "data_offsets");
    if (!dtype_field || !dtype_field->is_string()) bad_weights(path, where + " has no dtype string");
    if (!shape_field || !shape_field->is_array()) bad_weights(path, where + " has no shape array");
    if (!offsets_field || !offsets_field->is_array() || offsets_field->size() != 2)
      bad_weights(path, where + " has no [begin, end] data_offsets");
    TensorView view{};
    view.name = name;
    size_t element_size = 0;
    const std::string dtype = dtype_field->get<std::string>();
    if (!parse_dtype(dtype, &view.dtype, &element_size)) bad_weights(path, where + " has unsupported dtype " + dtype);
    uint64_t elements = 1;
    for (const json& dim : *shape_field) {
      if (!dim.is_number_unsigned() || dim.get<uint64_t>() > (uint64_t(1) << 40)) bad_weights(path, where + " has an invalid dimension");
      const uint64_t d = dim.get<uint64_t>();
      view.shape.push_back(int64_t(d));
      if (d != 0 && elements > (uint64_t(1) << 50) / d) bad_weights(path, where + " shape overflows");
      elements *= d;
    }
    uint64_t bounds[2];
    for (int i = 0; i < 2; ++i) {
      const json& v = (*offsets_field)[size_t(i)];
      if (!v.is_number_unsigned()) bad_weights(path, where + " has an invalid data offset");
      bounds[i] = v.get<uint64_t>();
    }
    if (bounds[0] > bounds[1] || bounds[1] > data_size)
      bad_weights(path, where + " data_offsets lie outside the file's data section");
    if (elements * element_size != bounds[1] - bounds[0])
      bad_weights(path, where + " byte length does not match its shape and dtype");
    view.data = data_start + bounds[0];
    view.byte_length = size_t(bounds[1] - bounds[0]);
    ranges.emplace_back(bounds[0], bounds[1]);
    tensors.emplace(name, std::move(view));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) bad_weights(path, "tensors overlap in the data section");
}

}  // namespace sie
