#include "elementwise.h"

#include <algorithm>
#include <cmath>

#include "../../core/cpu_features.h"
#include "../gemm/bf16_gemm.h"

namespace sie {

void gelu_erf_reference(float* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const double v = x[i];
    x[i] = float(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))));
  }
}

void gelu_erf(float* x, int64_t count) {
  if (cpu_has_avx512()) return gelu_erf_avx512(x, count);
  if (cpu_isa() >= CpuIsa::Avx2) return gelu_erf_avx2(x, count);
  for (int64_t i = 0; i < count; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
}

void sigmoid_gate_reference(float* x, int64_t count, float alpha) {
  for (int64_t i = 0; i < count; ++i) x[i] = float(double(x[i]) / (1.0 + std::exp(-double(alpha) * x[i])));
}

void sigmoid_gate(float* x, int64_t count, float alpha) {
  if (cpu_has_avx512()) return sigmoid_gate_avx512(x, count, alpha);
  for (int64_t i = 0; i < count; ++i) x[i] = x[i] / (1.0f + std::exp(-alpha * x[i]));
}

void softmax_rows_reference(float* x, int rows, int cols, int64_t ld) {
  for (int r = 0; r < rows; ++r) {
    float* row = x + r * ld;
    double max = row[0];
    for (int c = 1; c < cols; ++c) max = std::max(max, double(row[c]));
    double sum = 0;
    for (int c = 0; c < cols; ++c) sum += std::exp(double(row[c]) - max);
    for (int c = 0; c < cols; ++c) row[c] = float(std::exp(double(row[c]) - max) / sum);
  }
}

void softmax_rows(float* x, int rows, int cols, int64_t ld) {
  if (cpu_has_avx512()) {
    for (int r = 0; r < rows; ++r) softmax_row_avx512(x + r * ld, cols);
    return;
  }
  if (cpu_isa() >= CpuIsa::Avx2) {
    for (int r = 0; r < rows; ++r) softmax_row_avx2(x + r * ld, cols);
    return;
  }
  for (int r = 0; r < rows; ++r) {
    float* row = x + r * ld;
    float max = *std::max_element(row, row + cols);
    float sum = 0;
    for (int c = 0; c < cols; ++c) sum += (row[c] = std::exp(row[c] - max));
    const float inv = 1.0f / sum, live = softmax_live_threshold(sum);
    for (int c = 0; c < cols; ++c) row[c] = row[c] >= live ? row[c] * inv : 0.0f;
  }
}

namespace {

// Rows of x rounded to bf16 (nearest even) into out, zero from cols to cols_padded.
void round_rows_to_bf16(const float* x, int rows, int cols, int64_t ld, uint16_t* out, int64_t ld_out, int cols_padded) {
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols_padded; ++c) out[r * ld_out + c] = c < cols ? float_to_bf16(x[r * ld + c]) : 0;
}

}  // namespace

void softmax_rows_to_bf16_reference(float* x, int rows, int cols, int64_t ld, uint16_t* out, int64_t ld_out, int cols_padded) {
  softmax_rows_reference(x, rows, cols, ld);
  round_rows_to_bf16(x, rows, cols, ld, out, ld_out, cols_padded);
}

void softmax_rows_to_bf16(float* x, int rows, int cols, int64_t ld, uint16_t* out, int64_t ld_out, int cols_padded) {
  if (cpu_isa() >= CpuIsa::Avx512Bf16) {
    for (int r = 0; r < rows; ++r) softmax_row_to_bf16_avx512bf16(x + r * ld, cols, out + r * ld_out, cols_padded);
    return;
  }
  softmax_rows(x, rows, cols, ld);
  round_rows_to_bf16(x, rows, cols, ld, out, ld_out, cols_padded);
}

void add_layer_norm(float* x, const float* residual, int rows, int cols, int64_t ld, const float* gamma,
                    const float* beta, float eps) {
  if (cpu_has_avx512()) {
    for (int r = 0; r < rows; ++r) add_layer_norm_row_avx512(x + r * ld, residual ? residual + r * ld : nullptr, cols, gamma, beta, eps);
    return;
  }
  for (int r = 0; r < rows; ++r) {
    float* row = x + r * ld;
    if (residual) {
      const float* res = residual + r * ld;
      for (int c = 0; c < cols; ++c) row[c] += res[c];
    }
    float mean = 0;
    for (int c = 0; c < cols; ++c) mean += row[c];
    mean /= float(cols);
    float var = 0;
    for (int c = 0; c < cols; ++c) {
      const float d = row[c] - mean;
      var += d * d;
    }
    const float inv_std = 1.0f / std::sqrt(var / float(cols) + eps);
    for (int c = 0; c < cols; ++c) row[c] = (row[c] - mean) * inv_std * gamma[c] + beta[c];
  }
}

void add_layer_norm_to_bf16(float* x, const float* residual, int rows, int cols, int64_t ld, const float* gamma, const float* beta,
                            float eps, uint16_t* out, int64_t ld_out, int cols_padded) {
  if (cpu_isa() >= CpuIsa::Avx512Bf16) {
    for (int r = 0; r < rows; ++r)
      add_layer_norm_row_bf16_avx512bf16(x + r * ld, residual ? residual + r * ld : nullptr, cols, gamma, beta, eps, out + r * ld_out,
                                         cols_padded);
    return;
  }
  add_layer_norm(x, residual, rows, cols, ld, gamma, beta, eps);
  round_rows_to_bf16(x, rows, cols, ld, out, ld_out, cols_padded);
}

void add_layer_norm_to_bf16_reference(float* x, const float* residual, int rows, int cols, int64_t ld, const float* gamma,
                                      const float* beta, float eps, uint16_t* out, int64_t ld_out, int cols_padded) {
  add_layer_norm_reference(x, residual, rows, cols, ld, gamma, beta, eps);
  round_rows_to_bf16(x, rows, cols, ld, out, ld_out, cols_padded);
}

void add_layer_norm_reference(float* x, const float* residual, int rows, int cols, int64_t ld, const float* gamma,
                              const float* beta, float eps) {
  for (int r = 0; r < rows; ++r) {
    float* row = x + r * ld;
    double mean = 0, var = 0;
    for (int c = 0; c < cols; ++c) mean += double(row[c]) + (residual ? residual[r * ld + c] : 0.0);
    mean /= cols;
    for (int c = 0; c < cols; ++c) {
      const double d = double(row[c]) + (residual ? residual[r * ld + c] : 0.0) - mean;
      var += d * d;
    }
    const double inv_std = 1.0 / std::sqrt(var / cols + eps);
    for (int c = 0; c < cols; ++c) {
      const double v = double(row[c]) + (residual ? residual[r * ld + c] : 0.0);
      row[c] = float((v - mean) * inv_std * gamma[c] + beta[c]);
    }
  }
}

}  // namespace sie
