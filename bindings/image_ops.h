// Image operations the TypeScript preprocessing calls (lib/images/): Pillow-exact bicubic
// resizing of RGB bytes and CLIP's whole pixel preprocessing, on a worker thread (a Promise), off
// the event loop.
#pragma once
#include <napi.h>

namespace sie_bindings {

Napi::Object define_image_ops(Napi::Env env);

}  // namespace sie_bindings
