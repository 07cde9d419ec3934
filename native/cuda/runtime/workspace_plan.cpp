#include "workspace_plan.h"

namespace sie {
namespace {

size_t align_up(size_t bytes) { return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

}  // namespace

WorkspacePlan plan_workspace(const EncoderConfig& c, int dtype_bytes, int tokens, int sequences, size_t head_bytes) {
  WorkspacePlan plan;
  const size_t t = size_t(tokens), e = size_t(dtype_bytes);
  const int64_t ints = 4 * int64_t(tokens) + (sequences + 1) + 2 * attention_block_bound(tokens, sequences) + sequences;
  plan.input_capacity = int32_t(ints);
  size_t at = 0;
  auto take = [&](size_t bytes) {
    const size_t offset = at;
    at += align_up(bytes);
    return offset;
  };
  plan.inputs = take(size_t(ints) * sizeof(int32_t));
  plan.hidden = take(t * c.hidden_size * e);
  plan.scratch = take(t * c.hidden_size * e);
  plan.qkv = take(t * 3 * c.hidden_size * e);
  plan.context = take(t * c.hidden_size * e);
  plan.intermediate = take(t * c.intermediate_size * e);
  plan.head = take(head_bytes);
  plan.total = at;
  return plan;
}

}  // namespace sie
