// Heads are made by name, from one table (head_registry.cpp): adding a head is adding a row.
// The names are what lib/families asks for (NATIVE_HEAD_KINDS in lib/bindings/native-addon.ts;
// test/native-contract.test.ts checks the two lists agree).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "../../backend/model_description.h"
#include "../../weights/weight_store.h"
#include "model_head.h"

namespace sie {

// Linear layers of the head are packed in `format`.
std::unique_ptr<ModelHead> make_head(const HeadOptions& options, const EncoderConfig& encoder, const WeightStore& weights,
                                     WeightFormat format);
std::vector<std::string> head_kinds();

}  // namespace sie
