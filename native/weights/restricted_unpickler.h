// A pickle reader that builds plain values and never runs code: the subset of the pickle
// protocol (0-5 opcodes) that torch.save emits for state dicts, with every global checked
// against an allowlist when it is named and every REDUCE handed to the caller, who decides what
// it builds. Anything else (an unknown opcode, a global outside the allowlist, a malformed
// stream) throws BAD_WEIGHTS with the byte offset. This is what torch.load(weights_only=True)
// trusts, and no more.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sie {

struct PickleValue;
using PickleRef = std::shared_ptr<PickleValue>;

struct PickleValue {
  enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Object };
  Kind kind = Kind::None;
  int64_t integer = 0;           // Bool, Int
  double number = 0;             // Float
  std::string text;              // String, Bytes, Global ("module name"), Object (its type)
  std::vector<PickleRef> items;  // Tuple, List; Dict as key, value, key, value...
  int64_t object_id = -1;        // Object: the caller's handle for what a REDUCE built
};

struct UnpicklerHooks {
  // Globals that may be named at all; anything else is refused where it appears.
  std::vector<std::string> allowed_globals;
  // REDUCE of an allowed global with its argument tuple.
  std::function<PickleRef(const std::string& global, const PickleValue& args)> reduce;
  // BINPERSID: torch's storage records.
  std::function<PickleRef(const PickleValue& pid)> persistent_load;
};

// Runs the stream and hands its result to `consume`; the values live only for that call.
void unpickle(const uint8_t* data, size_t size, const UnpicklerHooks& hooks, const std::string& path,
              const std::function<void(const PickleValue& root)>& consume);

// Convenience for hooks: a value of one kind.
PickleRef make_pickle_value(PickleValue::Kind kind);

}  // namespace sie
