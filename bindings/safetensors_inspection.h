// inspectSafetensors(path): the tensor table of a weight file, validated by the same native
// parser that loads it. lib/ uses it to size a model before loading it, so the header is parsed
// in one place only.
#pragma once
#include <napi.h>

namespace sie_bindings {

Napi::Value inspect_safetensors(const Napi::CallbackInfo& info);

}  // namespace sie_bindings
