// Reads the JS load options ({architecture, weightsPath, encoder: {...}, head: {...}}) into a
// sie::ModelDescription, refusing wrong types with INVALID_ARGUMENT. lib/families builds them.
#pragma once
#include <napi.h>

#include "../native/backend/model_description.h"

namespace sie_bindings {

sie::ModelDescription model_description_from_js(const Napi::Value& value);

}  // namespace sie_bindings
