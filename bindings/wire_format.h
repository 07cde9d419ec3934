// Formatting the HTTP routes hand to native code because it is hot: float32 vectors as JSON text.
#pragma once
#include <napi.h>

namespace sie_bindings {

Napi::Object define_wire_format(Napi::Env env);

}  // namespace sie_bindings
