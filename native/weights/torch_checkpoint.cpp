#include "torch_checkpoint.h"

#include <cstring>

#include "restricted_unpickler.h"
#include "zip_archive.h"

namespace sie {
namespace {

using Kind = PickleValue::Kind;

struct StorageType {
  const char* global;
  DType dtype;
};

const StorageType kStorageTypes[] = {
    {"torch FloatStorage", DType::F32}, {"torch HalfStorage", DType::F16},  {"torch BFloat16Storage", DType::BF16},
    {"torch DoubleStorage", DType::F64}, {"torch LongStorage", DType::I64}, {"torch IntStorage", DType::I32},
    {"torch ShortStorage", DType::I16},  {"torch CharStorage", DType::I8},  {"torch ByteStorage", DType::U8},
    {"torch BoolStorage", DType::Bool},
};

const char* kOrderedDict = "collections OrderedDict";
const char* kRebuildTensor = "torch._utils _rebuild_tensor_v2";
const char* kRebuildParameter = "torch._utils _rebuild_parameter";

struct Storage {
  DType dtype;
  const uint8_t* data;
  uint64_t numel;
};

struct PendingTensor {
  int64_t storage;
  int64_t offset;
  std::vector<int64_t> size, stride;
};

bool is_int(const PickleRef& v) { return v && v->kind == Kind::Int; }

bool int_tuple(const PickleRef& v, std::vector<int64_t>* out) {
  if (!v || v->kind != Kind::Tuple || v->items.size() > 8) return false;
  for (const PickleRef& item : v->items) {
    if (!is_int(item) || item->integer < 0) return false;
    out->push_back(item->integer);
  }
  return true;
}

}  // namespace

TorchCheckpointFile::TorchCheckpointFile(const std::string& path) : WeightStore(path), file_(path) {
  parse_torch_checkpoint(file_.data(), file_.size(), path, tensors_, gathered_);
}

void parse_torch_checkpoint(const uint8_t* bytes, size_t size, const std::string& path, std::map<std::string, TensorView>& tensors,
                            std::vector<std::vector<uint8_t>>& gathered) {
  if (!looks_like_zip(bytes, size)) {
    const bool legacy = size >= 2 && bytes[0] == 0x80;
    throw_bad_weights(path, legacy ? "legacy (pre-1.6) torch format; re-save it with torch.save or convert it to safetensors"
                                   : "not a torch zip checkpoint");
  }
  const ZipArchive archive(bytes, size, path);
  std::string prefix;
  int pickles = 0;
  for (const auto& [name, entry] : archive.entries()) {
    const size_t slash = name.find('/');
    if (slash != std::string::npos && name.substr(slash + 1) == "data.pkl") {
      prefix = name.substr(0, slash + 1);
      ++pickles;
    }
  }
  if (pickles != 1) throw_bad_weights(path, "a torch checkpoint holds exactly one <archive>/data.pkl, found " + std::to_string(pickles));
  if (archive.has(prefix + "byteorder")) {
    const ZipEntry& order = archive.get(prefix + "byteorder");
    if (std::string(reinterpret_cast<const char*>(order.data), size_t(order.size)) != "little")
      throw_bad_weights(path, "big-endian torch checkpoints are not supported");
  }

  std::vector<Storage> storages;
  std::vector<PendingTensor> pending;
  UnpicklerHooks hooks;
  hooks.allowed_globals = {kOrderedDict, kRebuildTensor, kRebuildParameter};
  for (const StorageType& t : kStorageTypes) hooks.allowed_globals.push_back(t.global);

  hooks.persistent_load = [&](const PickleValue& pid) -> PickleRef {
    // ('storage', <storage type>, key, location, numel)
    const auto& f = pid.items;
    if (pid.kind != Kind::Tuple || f.size() != 5 || f[0]->kind != Kind::String || f[0]->text != "storage" ||
        f[1]->kind != Kind::Global || f[2]->kind != Kind::String || !is_int(f[4]) || f[4]->integer < 0)
      return nullptr;
    const StorageType* type = nullptr;
    for (const StorageType& t : kStorageTypes)
      if (f[1]->text == t.global) type = &t;
    if (!type) return nullptr;
    const std::string entry_name = prefix + "data/" + f[2]->text;
    if (!archive.has(entry_name)) throw_bad_weights(path, "storage '" + f[2]->text + "' has no data entry in the archive");
    const ZipEntry& entry = archive.get(entry_name);
    const uint64_t numel = uint64_t(f[4]->integer);
    if (numel > entry.size / dtype_size(type->dtype) || numel * dtype_size(type->dtype) != entry.size)
      throw_bad_weights(path, "storage '" + f[2]->text + "' declares " + std::to_string(numel) + " " + dtype_name(type->dtype) +
                                  " elements but its entry holds " + std::to_string(entry.size) + " bytes");
    auto object = make_pickle_value(Kind::Object);
    object->text = "storage";
    object->object_id = int64_t(storages.size());
    storages.push_back({type->dtype, entry.data, numel});
    return object;
  };

  hooks.reduce = [&](const std::string& global, const PickleValue& args) -> PickleRef {
    const auto& a = args.items;
    if (global == kOrderedDict) return a.empty() ? make_pickle_value(Kind::Dict) : nullptr;
    if (global == kRebuildParameter) {
      if (a.size() < 2 || a[0]->kind != Kind::Object || a[0]->text != "tensor") return nullptr;
      return a[0];
    }
    if (global != kRebuildTensor || a.size() < 4 || a[0]->kind != Kind::Object || a[0]->text != "storage" || !is_int(a[1]) ||
        a[1]->integer < 0)
      return nullptr;
    PendingTensor t{a[0]->object_id, a[1]->integer, {}, {}};
    if (!int_tuple(a[2], &t.size) || !int_tuple(a[3], &t.stride) || t.size.size() != t.stride.size()) return nullptr;
    auto object = make_pickle_value(Kind::Object);
    object->text = "tensor";
    object->object_id = int64_t(pending.size());
    pending.push_back(std::move(t));
    return object;
  };

  const ZipEntry& pickle = archive.get(prefix + "data.pkl");
  unpickle(pickle.data, size_t(pickle.size), hooks, path, [&](const PickleValue& root) {
    if (root.kind != Kind::Dict) throw_bad_weights(path, "data.pkl does not hold a state dict");
    for (size_t i = 0; i + 1 < root.items.size(); i += 2) {
      const PickleRef& key = root.items[i];
      const PickleRef& value = root.items[i + 1];
      if (key->kind != Kind::String) throw_bad_weights(path, "state dict key is not a string");
      if (value->kind != Kind::Object || value->text != "tensor") throw_bad_weights(path, "state dict entry '" + key->text + "' is not a tensor");
      const PendingTensor& p = pending[size_t(value->object_id)];
      const Storage& s = storages[size_t(p.storage)];
      const size_t element = dtype_size(s.dtype);
      // Elements and the furthest element the view reaches, both inside the storage.
      uint64_t count = 1, reach = uint64_t(p.offset);
      bool contiguous = true;
      uint64_t expected_stride = 1;
      for (size_t d = p.size.size(); d-- > 0;) {
        const uint64_t n = uint64_t(p.size[d]), stride = uint64_t(p.stride[d]);
        if (n != 0 && count > (uint64_t(1) << 50) / n) throw_bad_weights(path, "tensor '" + key->text + "' shape overflows");
        count *= n;
        if (n > 1 && stride != expected_stride) contiguous = false;
        expected_stride *= n;
        if (n > 0) {
          if (stride > (uint64_t(1) << 50) / n) throw_bad_weights(path, "tensor '" + key->text + "' stride overflows");
          reach += (n - 1) * stride;
        }
      }
      if (count > 0 && reach >= s.numel)
        throw_bad_weights(path, "tensor '" + key->text + "' reaches element " + std::to_string(reach) + " of a storage of " +
                                    std::to_string(s.numel));
      TensorView view{key->text, s.dtype, p.size, nullptr, size_t(count * element)};
      if (contiguous) {
        view.data = s.data + uint64_t(p.offset) * element;
      } else {
        std::vector<uint8_t> out(view.byte_length);
        std::vector<int64_t> index(p.size.size(), 0);
        for (uint64_t e = 0; e < count; ++e) {
          uint64_t from = uint64_t(p.offset);
          for (size_t d = 0; d < index.size(); ++d) from += uint64_t(index[d]) * uint64_t(p.stride[d]);
          std::memcpy(out.data() + e * element, s.data + from * element, element);
          for (size_t d = index.size(); d-- > 0;) {
            if (++index[d] < p.size[d]) break;
            index[d] = 0;
          }
        }
        gathered.push_back(std::move(out));
        view.data = gathered.back().data();
      }
      if (!tensors.emplace(key->text, std::move(view)).second) throw_bad_weights(path, "state dict holds '" + key->text + "' twice");
    }
  });
}

}  // namespace sie
