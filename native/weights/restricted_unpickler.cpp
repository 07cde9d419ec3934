#include "restricted_unpickler.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "weight_store.h"

namespace sie {
namespace {

// Bounds that no state dict comes near; they keep a hostile stream from using unbounded memory.
constexpr size_t kMaxStack = 1u << 20;
constexpr size_t kMaxMemo = 1u << 22;

class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, const UnpicklerHooks& hooks, const std::string& path)
      : data_(data), size_(size), hooks_(hooks), path_(path) {}
  // A hostile stream can build cycles (a list appended to itself through the memo) or nesting a
  // million deep; emptying every container here frees both without recursion.
  ~Unpickler() {
    for (auto& c : containers_) c->items.clear();
  }

  PickleRef run() {
    while (true) {
      const size_t op_at = pos_;
      const uint8_t op = byte();
      switch (op) {
        case 0x80: {  // PROTO
          const uint8_t version = byte();
          if (version > 5) fail(op_at, "pickle protocol " + std::to_string(version) + " is not supported");
          break;
        }
        case 0x95: skip(8); break;  // FRAME: a length hint only
        case '.': {                 // STOP
          if (stack_.size() != 1 || !marks_.empty()) fail(op_at, "pickle stops with " + std::to_string(stack_.size()) + " values on the stack");
          return stack_.back();
        }
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case '0': pop(op_at); break;                        // POP
        case '1': pop_to_mark(op_at); break;                // POP_MARK
        case '2': push(top(op_at)); break;                  // DUP
        case 'N': push(make_pickle_value(PickleValue::Kind::None)); break;
        case 0x88: push(boolean(true)); break;   // NEWTRUE
        case 0x89: push(boolean(false)); break;  // NEWFALSE
        case 'J': push(integer(int32_t(uint(4)))); break;  // BININT
        case 'K': push(integer(int64_t(uint(1)))); break;  // BININT1
        case 'M': push(integer(int64_t(uint(2)))); break;  // BININT2
        case 0x8a: push(long_integer(op_at, uint(1))); break;  // LONG1
        case 'G': {                                           // BINFLOAT, big-endian
          uint64_t bits = 0;
          for (int i = 0; i < 8; ++i) bits = (bits << 8) | byte();
          auto v = make_pickle_value(PickleValue::Kind::Float);
          std::memcpy(&v->number, &bits, 8);
          push(v);
          break;
        }
        case 'X': push(text(PickleValue::Kind::String, uint(4))); break;     // BINUNICODE
        case 0x8c: push(text(PickleValue::Kind::String, uint(1))); break;  // SHORT_BINUNICODE
        case 0x8d: push(text(PickleValue::Kind::String, uint(8))); break;  // BINUNICODE8
        case 'B': push(text(PickleValue::Kind::Bytes, uint(4))); break;    // BINBYTES
        case 'C': push(text(PickleValue::Kind::Bytes, uint(1))); break;    // SHORT_BINBYTES
        case ')': push(container_value(PickleValue::Kind::Tuple)); break;
        case ']': push(container_value(PickleValue::Kind::List)); break;
        case '}': push(container_value(PickleValue::Kind::Dict)); break;
        case 't': push(sequence(PickleValue::Kind::Tuple, pop_to_mark(op_at))); break;  // TUPLE
        case 'l': push(sequence(PickleValue::Kind::List, pop_to_mark(op_at))); break;   // LIST
        case 'd': {                                                                     // DICT
          auto items = pop_to_mark(op_at);
          if (items.size() % 2) fail(op_at, "DICT with an odd number of items");
          push(sequence(PickleValue::Kind::Dict, std::move(items)));
          break;
        }
        case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
          std::vector<PickleRef> items(size_t(op - 0x84));
          for (size_t i = items.size(); i-- > 0;) items[i] = pop(op_at);
          push(sequence(PickleValue::Kind::Tuple, std::move(items)));
          break;
        }
        case 'a': {  // APPEND
          PickleRef item = pop(op_at);
          container(op_at, PickleValue::Kind::List).items.push_back(item);
          break;
        }
        case 'e': {  // APPENDS
          auto items = pop_to_mark(op_at);
          auto& list = container(op_at, PickleValue::Kind::List).items;
          list.insert(list.end(), items.begin(), items.end());
          break;
        }
        case 's': {  // SETITEM
          PickleRef value = pop(op_at), key = pop(op_at);
          set_items(op_at, {key, value});
          break;
        }
        case 'u': set_items(op_at, pop_to_mark(op_at)); break;  // SETITEMS
        case 'q': memo_put(op_at, uint(1)); break;              // BINPUT
        case 'r': memo_put(op_at, uint(4)); break;              // LONG_BINPUT
        case 0x94: memo_put(op_at, memo_.size()); break;        // MEMOIZE
        case 'h': push(memo_get(op_at, uint(1))); break;        // BINGET
        case 'j': push(memo_get(op_at, uint(4))); break;        // LONG_BINGET
        case 'c': {                                             // GLOBAL "module\nname\n"
          const std::string module = line(op_at), name = line(op_at);
          push(global(op_at, module, name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          PickleRef name = pop(op_at), module = pop(op_at);
          if (name->kind != PickleValue::Kind::String || module->kind != PickleValue::Kind::String) fail(op_at, "STACK_GLOBAL needs two strings");
          push(global(op_at, module->text, name->text));
          break;
        }
        case 'R': {  // REDUCE
          PickleRef args = pop(op_at), callable = pop(op_at);
          if (callable->kind != PickleValue::Kind::Global) fail(op_at, "REDUCE of something that is not an allowed global");
          if (args->kind != PickleValue::Kind::Tuple) fail(op_at, "REDUCE arguments are not a tuple");
          PickleRef built = hooks_.reduce(callable->text, *args);
          if (!built) fail(op_at, "global '" + callable->text + "' cannot be called with these arguments");
          if (built->kind == PickleValue::Kind::Tuple || built->kind == PickleValue::Kind::List || built->kind == PickleValue::Kind::Dict)
            containers_.push_back(built);
          push(built);
          break;
        }
        case 'b': {  // BUILD: only the state of an OrderedDict (state_dict's _metadata), which is dropped
          PickleRef state = pop(op_at);
          const PickleRef& target = top(op_at);
          if (target->kind != PickleValue::Kind::Dict || (state->kind != PickleValue::Kind::Dict && state->kind != PickleValue::Kind::None))
            fail(op_at, "BUILD is only allowed on a dict");
          break;
        }
        case 'Q': {  // BINPERSID
          PickleRef pid = pop(op_at);
          PickleRef loaded = hooks_.persistent_load(*pid);
          if (!loaded) fail(op_at, "unknown persistent id");
          push(loaded);
          break;
        }
        default: {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", op);
          fail(op_at, std::string("pickle opcode ") + hex + " is not allowed in a weights file");
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(size_t at, const std::string& what) const {
    throw_bad_weights(path_, "data.pkl byte " + std::to_string(at) + ": " + what);
  }
  uint8_t byte() {
    if (pos_ >= size_) fail(pos_, "pickle ends before STOP");
    return data_[pos_++];
  }
  void skip(size_t n) {
    if (n > size_ - pos_) fail(pos_, "pickle ends inside an opcode");
    pos_ += n;
  }
  uint64_t uint(int bytes) {
    if (size_t(bytes) > size_ - pos_) fail(pos_, "pickle ends inside an opcode");
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | data_[pos_ + size_t(i)];
    pos_ += size_t(bytes);
    return v;
  }
  std::string line(size_t op_at) {
    const uint8_t* start = data_ + pos_;
    const uint8_t* end = static_cast<const uint8_t*>(std::memchr(start, '\n', std::min<size_t>(size_ - pos_, 256)));
    if (!end) fail(op_at, "GLOBAL name is not terminated");
    pos_ += size_t(end - start) + 1;
    return std::string(reinterpret_cast<const char*>(start), size_t(end - start));
  }
  PickleRef text(PickleValue::Kind kind, uint64_t length) {
    if (length > size_ - pos_) fail(pos_, "string runs past the end of the pickle");
    auto v = make_pickle_value(kind);
    v->text.assign(reinterpret_cast<const char*>(data_ + pos_), size_t(length));
    pos_ += size_t(length);
    return v;
  }
  static PickleRef boolean(bool b) {
    auto v = make_pickle_value(PickleValue::Kind::Bool);
    v->integer = b;
    return v;
  }
  static PickleRef integer(int64_t i) {
    auto v = make_pickle_value(PickleValue::Kind::Int);
    v->integer = i;
    return v;
  }
  PickleRef long_integer(size_t op_at, uint64_t length) {
    if (length > 8) fail(op_at, "integer wider than 64 bits");
    if (length > size_ - pos_) fail(op_at, "pickle ends inside an integer");
    uint64_t bits = 0;
    for (size_t i = length; i-- > 0;) bits = (bits << 8) | data_[pos_ + i];
    if (length > 0 && length < 8 && (data_[pos_ + length - 1] & 0x80)) bits |= ~uint64_t(0) << (8 * length);  // sign-extend
    pos_ += size_t(length);
    return integer(int64_t(bits));
  }
  PickleRef sequence(PickleValue::Kind kind, std::vector<PickleRef> items) {
    auto v = container_value(kind);
    v->items = std::move(items);
    return v;
  }
  PickleRef container_value(PickleValue::Kind kind) {
    auto v = make_pickle_value(kind);
    containers_.push_back(v);
    return v;
  }
  PickleRef global(size_t op_at, const std::string& module, const std::string& name) {
    const std::string full = module + " " + name;
    const auto& allowed = hooks_.allowed_globals;
    if (std::find(allowed.begin(), allowed.end(), full) == allowed.end())
      fail(op_at, "the pickle names global '" + module + "." + name + "', which a weights file may not use");
    auto v = make_pickle_value(PickleValue::Kind::Global);
    v->text = full;
    return v;
  }
  void push(PickleRef v) {
    if (stack_.size() >= kMaxStack) fail(pos_, "pickle stack too deep");
    stack_.push_back(std::move(v));
  }
  PickleRef pop(size_t op_at) {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail(op_at, "pickle stack underflow");
    PickleRef v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  const PickleRef& top(size_t op_at) {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail(op_at, "pickle stack underflow");
    return stack_.back();
  }
  std::vector<PickleRef> pop_to_mark(size_t op_at) {
    if (marks_.empty()) fail(op_at, "no MARK on the stack");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<PickleRef> items(std::make_move_iterator(stack_.begin() + long(mark)), std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }
  PickleValue& container(size_t op_at, PickleValue::Kind kind) {
    const PickleRef& target = top(op_at);
    if (target->kind != kind) fail(op_at, "appending to something that is not a list");
    return *target;
  }
  void set_items(size_t op_at, std::vector<PickleRef> items) {
    if (items.size() % 2) fail(op_at, "SETITEMS with an odd number of items");
    PickleValue& dict = *top(op_at);
    if (dict.kind != PickleValue::Kind::Dict) fail(op_at, "setting items on something that is not a dict");
    dict.items.insert(dict.items.end(), items.begin(), items.end());
  }
  void memo_put(size_t op_at, uint64_t key) {
    if (memo_.size() >= kMaxMemo && !memo_.count(key)) fail(op_at, "pickle memo too large");
    memo_[key] = top(op_at);
  }
  PickleRef memo_get(size_t op_at, uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) fail(op_at, "memo entry " + std::to_string(key) + " is not set");
    return it->second;
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const UnpicklerHooks& hooks_;
  const std::string& path_;
  std::vector<PickleRef> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PickleRef> memo_;
  std::vector<PickleRef> containers_;
};

}  // namespace

PickleRef make_pickle_value(PickleValue::Kind kind) {
  auto v = std::make_shared<PickleValue>();
  v->kind = kind;
  return v;
}

void unpickle(const uint8_t* data, size_t size, const UnpicklerHooks& hooks, const std::string& path,
              const std::function<void(const PickleValue& root)>& consume) {
  Unpickler unpickler(data, size, hooks, path);
  consume(*unpickler.run());
}

}  // namespace sie
