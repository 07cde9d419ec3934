// One exception type for every failure inside the engine. Its `code` is stable and crosses the
// N-API boundary unchanged (bindings/error_translation.h), where the JS layer maps it to HTTP.
#pragma once
#include <stdexcept>
#include <string>

namespace sie {

enum class ErrorCode { BadWeights, BadConfig, InvalidInput, Internal };

inline const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::BadWeights: return "BAD_WEIGHTS";
    case ErrorCode::BadConfig: return "BAD_CONFIG";
    case ErrorCode::InvalidInput: return "INVALID_INPUT";
    case ErrorCode::Internal: return "INTERNAL";
  }
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
