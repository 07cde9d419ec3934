// JS handle of one loaded dense embedder: loaded and run on libuv worker threads, never on the
// event loop; results come back as zero-copy Float32Arrays.
#pragma once
#include <napi.h>

#include <memory>

#include "../native/heads/sentence_embedder.h"

namespace sie_bindings {

class SentenceEmbedderHandle : public Napi::ObjectWrap<SentenceEmbedderHandle> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit SentenceEmbedderHandle(const Napi::CallbackInfo& info);
  // loadSentenceEmbedder(options) -> Promise<SentenceEmbedderHandle>
  static Napi::Value load(const Napi::CallbackInfo& info);

 private:
  Napi::Value embed(const Napi::CallbackInfo& info);
  Napi::Value info(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<sie::SentenceEmbedder> model_;
};

}  // namespace sie_bindings
