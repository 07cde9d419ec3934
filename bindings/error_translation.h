// Engine failures cross into JS as Error objects carrying the engine's stable `code` (the names
// of native/core/engine_error.h, never a literal here); lib/ wraps them in EngineError.
#pragma once
#include <napi.h>

#include <string>

#include "../native/core/engine_error.h"

namespace sie_bindings {

inline std::string name(sie::ErrorCode code) { return sie::error_code_name(code); }

inline Napi::Error coded_error(Napi::Env env, sie::ErrorCode code, const std::string& message);

inline Napi::Error coded_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Value().Set("code", Napi::String::New(env, code));
  return error;
}

// Runs fn, turning C++ exceptions into thrown JS errors with a code.
template <typename Fn>
auto translate_errors(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const sie::EngineError& e) {
    throw coded_error(env, sie::error_code_name(e.code()), e.what());
  } catch (const std::bad_alloc&) {
    throw coded_error(env, name(sie::ErrorCode::OutOfMemory), "the engine ran out of memory");
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw coded_error(env, name(sie::ErrorCode::Internal), e.what());
  }
}

// An AsyncWorker whose failures keep their engine code on the way to the Promise.
class CodedAsyncWorker : public Napi::AsyncWorker {
 public:
  explicit CodedAsyncWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  virtual void Run() = 0;
  void Execute() override {
    try {
      Run();
    } catch (const sie::EngineError& e) {
      fail(sie::error_code_name(e.code()), e.what());
    } catch (const std::bad_alloc&) {
      fail(name(sie::ErrorCode::OutOfMemory), "the engine ran out of memory");
    } catch (const std::exception& e) {
      fail(name(sie::ErrorCode::Internal), e.what());
    }
  }
  void OnError(const Napi::Error&) override {
    deferred_.Reject(coded_error(Env(), code_, message_).Value());
  }
  Napi::Promise::Deferred deferred_;

 private:
  void fail(const std::string& code, const std::string& message) {
    code_ = code;
    message_ = message;
    SetError(message);
  }
  std::string code_ = name(sie::ErrorCode::Internal);
  std::string message_;
};

inline Napi::Error coded_error(Napi::Env env, sie::ErrorCode code, const std::string& message) {
  return coded_error(env, name(code), message);
}

inline Napi::Error argument_error(Napi::Env env, const std::string& message) {
  return coded_error(env, name(sie::ErrorCode::InvalidArgument), message);
}

}  // namespace sie_bindings
