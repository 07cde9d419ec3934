#include "attention_short_bf16.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../gemm/bf16_gemm.h"

namespace sie {

bool short_attention_bf16_fits(int length, int head_dim, CpuIsa isa) {
  return isa >= CpuIsa::Avx512Bf16 && length >= 1 && length <= kShortAttentionMaxLength && (head_dim == 32 || head_dim == 64);
}

void short_attention_bf16_reference(int length, int head_dim, const uint16_t* q, const uint16_t* k, const uint16_t* v, int64_t ld,
                                    int row_begin, int row_end, uint16_t* out, int64_t ld_out) {
  std::vector<double> p(static_cast<size_t>(length));
  for (int i = row_begin; i < row_end; ++i) {
    double max = -INFINITY;
    for (int j = 0; j < length; ++j) {
      double s = 0;
      for (int c = 0; c < head_dim; ++c) s += double(bf16_to_float_exact(q[i * ld + c])) * bf16_to_float_exact(k[j * ld + c]);
      p[size_t(j)] = s;
      max = std::max(max, s);
    }
    double sum = 0;
    for (double& e : p) sum += (e = std::exp(e - max));
    for (double& e : p) e = bf16_to_float_exact(float_to_bf16(float(e / sum)));
    for (int c = 0; c < head_dim; ++c) {
      double acc = 0;
      for (int j = 0; j < length; ++j) acc += p[size_t(j)] * bf16_to_float_exact(v[j * ld + c]);
      out[i * ld_out + c] = float_to_bf16(float(acc));
    }
  }
}

}  // namespace sie
