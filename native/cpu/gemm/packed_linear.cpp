#include "packed_linear.h"

namespace sie {

PackedLinear make_packed_linear(const float* w, std::vector<float> bias, int out_features, int in_features, WeightFormat format) {
  PackedLinear linear;
  linear.out_features = out_features;
  linear.in_features = in_features;
  if (format == WeightFormat::Bf16) linear.weight_bf16 = pack_bf16_nk(w, out_features, in_features, bf16_layout_for(cpu_isa()));
  else if (format == WeightFormat::Bf16x3) linear.weight_x3 = pack_bf16x3_nk(w, out_features, in_features);
  else if (format == WeightFormat::Bf16x3q) linear.weight_x3q = pack_bf16x3q_nk(w, out_features, in_features);
  else linear.weight = pack_linear_weights(w, out_features, in_features);
  linear.bias = bias.empty() ? std::vector<float>(size_t(out_features), 0.0f) : std::move(bias);
  return linear;
}

void linear_forward(const PackedLinear& linear, int m, const float* x, int64_t ldx, float* y, int64_t ldy, ThreadPool* pool,
                    Epilogue epilogue) {
  if (!linear.weight_x3q.empty()) {
    gemm_bf16x3q(m, linear.out_features, linear.in_features, x, ldx, linear.weight_x3q, linear.bias.data(), y, ldy, pool, epilogue);
  } else if (!linear.weight_x3.empty()) {
    gemm_bf16x3(m, linear.out_features, linear.in_features, x, ldx, linear.weight_x3, linear.bias.data(), y, ldy, pool, epilogue);
  } else if (!linear.weight_bf16.empty()) {
    gemm_bf16(m, linear.out_features, linear.in_features, x, ldx, linear.weight_bf16, linear.bias.data(), y, ldy, pool, epilogue,
              cpu_isa());
  } else {
    gemm_packed(m, linear.out_features, linear.in_features, x, ldx, linear.weight.panels.data(), linear.bias.data(), y, ldy, pool,
                epilogue);
  }
}

void linear_forward_bf16(const PackedLinear& linear, int m, const uint16_t* xb, int64_t ldxb, float* y, uint16_t* y16, int64_t ldy,
                         ThreadPool* pool, Epilogue epilogue) {
  gemm_bf16_converted(m, linear.out_features, linear.weight_bf16.k_padded, xb, ldxb, linear.weight_bf16.data(), linear.bias.data(), y,
                      ldy, pool, epilogue, cpu_isa(), y16);
}

}  // namespace sie
