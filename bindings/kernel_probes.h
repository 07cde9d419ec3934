// Direct access to individual native kernels and their reference twins, so the tap suite can
// compare them on random and edge-case shapes (test/native-kernels.test.ts). Synchronous:
// meant for tests and microbenchmarks, not the request path.
#pragma once
#include <napi.h>

namespace sie_bindings {

Napi::Object define_kernel_probes(Napi::Env env);

}  // namespace sie_bindings
