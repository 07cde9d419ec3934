// One exception type for every failure inside the engine. Its `code` is stable and crosses the
// N-API boundary unchanged (bindings/error_translation.h). The names here are a subset of
// ERROR_CODES in lib/errors/error-codes.ts; test/native-contract.test.ts checks that they agree.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace sie {

enum class ErrorCode { BadWeights, BadConfig, InvalidInput, InvalidArgument, OutOfMemory, DeviceUnavailable, ModelDisposed, Internal };

struct ErrorCodeName {
  ErrorCode code;
  const char* name;
};

inline constexpr ErrorCodeName kErrorCodeNames[] = {
    {ErrorCode::BadWeights, "BAD_WEIGHTS"},
    {ErrorCode::BadConfig, "BAD_CONFIG"},
    {ErrorCode::InvalidInput, "INVALID_INPUT"},
    {ErrorCode::InvalidArgument, "INVALID_ARGUMENT"},
    {ErrorCode::OutOfMemory, "OUT_OF_MEMORY"},
    {ErrorCode::DeviceUnavailable, "DEVICE_UNAVAILABLE"},
    {ErrorCode::ModelDisposed, "MODEL_DISPOSED"},
    {ErrorCode::Internal, "INTERNAL"},
};

inline const char* error_code_name(ErrorCode code) {
  for (const auto& entry : kErrorCodeNames)
    if (entry.code == code) return entry.name;
  return "INTERNAL";
}

class EngineError : public std::runtime_error {
 public:
  EngineError(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace sie
