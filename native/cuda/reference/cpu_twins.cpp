#include "cpu_twins.h"

#include <algorithm>
#include <cmath>

namespace sie_cuda_twin {
namespace {

void layer_norm_row(const std::vector<double>& row, const float* gamma, const float* beta, float eps, float* out) {
  const size_t n = row.size();
  double mean = 0;
  for (double v : row) mean += v;
  mean /= double(n);
  double var = 0;
  for (double v : row) var += (v - mean) * (v - mean);
  var /= double(n);
  const double inv = 1.0 / std::sqrt(var + double(eps));
  for (size_t c = 0; c < n; ++c) out[c] = float((row[c] - mean) * inv * gamma[c] + beta[c]);
}

double activate(double v, Activation act) {
  switch (act) {
    case Activation::GeluErf: return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    case Activation::GeluTanh: return 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
    case Activation::Tanh: return std::tanh(v);
    default: return v;
  }
}

}  // namespace

void embed_layer_norm(const int32_t* ids, const int32_t* positions, const int32_t* types, const float* word,
                      const float* position, const float* type, const float* gamma, const float* beta, float eps,
                      float* out, int tokens, int hidden) {
  std::vector<double> row(static_cast<size_t>(hidden));
  for (int t = 0; t < tokens; ++t) {
    const int type_id = types ? types[t] : 0;
    for (int c = 0; c < hidden; ++c)
      row[size_t(c)] = double(word[int64_t(ids[t]) * hidden + c]) + position[int64_t(positions[t]) * hidden + c] +
                       type[int64_t(type_id) * hidden + c];
    layer_norm_row(row, gamma, beta, eps, out + int64_t(t) * hidden);
  }
}

void add_layer_norm(const float* x, const float* residual, const float* gamma, const float* beta, float eps, float* out,
                    int rows, int cols) {
  std::vector<double> row(static_cast<size_t>(cols));
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c)
      row[size_t(c)] = double(x[int64_t(r) * cols + c]) + (residual ? residual[int64_t(r) * cols + c] : 0.0f);
    layer_norm_row(row, gamma, beta, eps, out + int64_t(r) * cols);
  }
}

void rms_norm(const float* x, const float* gamma, float eps, float* out, int rows, int cols) {
  for (int r = 0; r < rows; ++r) {
    double squares = 0;
    for (int c = 0; c < cols; ++c) squares += double(x[int64_t(r) * cols + c]) * x[int64_t(r) * cols + c];
    const double inv = 1.0 / std::sqrt(squares / cols + eps);
    for (int c = 0; c < cols; ++c) out[int64_t(r) * cols + c] = float(x[int64_t(r) * cols + c] * inv * gamma[c]);
  }
}

void gemm(const float* x, const float* w, const float* bias, Activation act, const float* residual, float* y, int m,
          int n, int k) {
  for (int r = 0; r < m; ++r)
    for (int c = 0; c < n; ++c) {
      double acc = bias ? bias[c] : 0.0;
      for (int i = 0; i < k; ++i) acc += double(x[int64_t(r) * k + i]) * w[int64_t(c) * k + i];
      acc = activate(acc, act);
      if (residual) acc += residual[int64_t(r) * n + c];
      y[int64_t(r) * n + c] = float(acc);
    }
}

void gemm_sequence_max(const float* x, const float* w, const float* bias, const int32_t* row_sequence, int sequences,
                       float* sequence_max, int m, int n, int k) {
  std::fill(sequence_max, sequence_max + int64_t(sequences) * n, 0.0f);
  std::vector<float> row(static_cast<size_t>(n));
  for (int r = 0; r < m; ++r) {
    gemm(x + int64_t(r) * k, w, bias, Activation::None, nullptr, row.data(), 1, n, k);
    float* dst = sequence_max + int64_t(row_sequence[r]) * n;
    for (int c = 0; c < n; ++c) dst[c] = std::max(dst[c], row[size_t(c)]);
  }
}

void attention(const float* qkv, int ld, int q_col, int k_col, int v_col, float* context, int ld_context,
               const int32_t* offsets, int num_sequences, int heads, int kv_heads, int head_dim, bool causal) {
  const int group = heads / kv_heads, d = head_dim;
  for (int s = 0; s < num_sequences; ++s) {
    const int begin = offsets[s], length = offsets[s + 1] - begin;
    std::vector<double> scores(static_cast<size_t>(length));
    for (int h = 0; h < heads; ++h) {
      const int kv = h / group;
      for (int i = 0; i < length; ++i) {
        const float* q = qkv + int64_t(begin + i) * ld + q_col + h * d;
        const int visible = causal ? i + 1 : length;
        double max_score = -INFINITY;
        for (int j = 0; j < visible; ++j) {
          const float* key = qkv + int64_t(begin + j) * ld + k_col + kv * d;
          double dot = 0;
          for (int c = 0; c < d; ++c) dot += double(q[c]) * key[c];
          scores[size_t(j)] = dot;
          max_score = std::max(max_score, dot);
        }
        double total = 0;
        for (int j = 0; j < visible; ++j) total += (scores[size_t(j)] = std::exp(scores[size_t(j)] - max_score));
        float* out = context + int64_t(begin + i) * ld_context + h * d;
        for (int c = 0; c < d; ++c) {
          double acc = 0;
          for (int j = 0; j < visible; ++j) acc += scores[size_t(j)] * qkv[int64_t(begin + j) * ld + v_col + kv * d + c];
          out[c] = float(acc / total);
        }
      }
    }
  }
}

void pool_sequences(const float* hidden, const int32_t* offsets, int num_sequences, int hidden_size, Pooling pooling,
                    bool normalize, float* out) {
  std::vector<double> row(static_cast<size_t>(hidden_size));
  for (int s = 0; s < num_sequences; ++s) {
    const int begin = offsets[s], end = offsets[s + 1];
    for (int c = 0; c < hidden_size; ++c) {
      if (pooling == Pooling::Mean) {
        double sum = 0;
        for (int t = begin; t < end; ++t) sum += hidden[int64_t(t) * hidden_size + c];
        row[size_t(c)] = sum / (end - begin);
      } else {
        row[size_t(c)] = hidden[int64_t(pooling == Pooling::Cls ? begin : end - 1) * hidden_size + c];
      }
    }
    double norm = 0;
    for (double v : row) norm += v * v;
    const double scale = normalize ? 1.0 / std::max(std::sqrt(norm), 1e-12) : 1.0;
    for (int c = 0; c < hidden_size; ++c) out[int64_t(s) * hidden_size + c] = float(row[size_t(c)] * scale);
  }
}

}  // namespace sie_cuda_twin
