// bf16x3q (bf16x3q_gemm.h): packing W into bf16 + 4-bit halves, rounding X's rows, the task grid
// that runs the AMX row blocks, and the plain twin.
#include "bf16x3q_gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "../../core/engine_error.h"
#include "gemm_task_grid.h"

namespace sie {

namespace {

int padded_k64(int k) { return (k + kLo4KStep - 1) / kLo4KStep * kLo4KStep; }

// Where q + 8 for column c (0..31 of its panel) and k index kk (0..63 of its step) sits in the
// step's 1 KiB: the AMX int8 B tile holds row kk / 4, column c % 16, byte kk % 4, and the second
// tile (columns 16-31) takes the high nibbles.
inline int lo4_byte(int c, int kk) { return (kk / 4) * 64 + (c % 16) * 4 + kk % 4; }

}  // namespace

Lo4Row quantize_lo4_row(const float* w_row, int k) {
  Lo4Row row;
  row.q.assign(size_t(k), 0);
  std::vector<float> lo(static_cast<size_t>(k));
  float largest = 0;
  for (int i = 0; i < k; ++i) {
    // Exact in float: a value less its nearest bf16 has at most 16 significant bits.
    lo[i] = w_row[i] - bf16_to_float_exact(float_to_bf16(w_row[i]));
    largest = std::max(largest, std::fabs(lo[i]));
  }
  if (!(largest > 0) || !std::isfinite(largest)) return row;
  row.scale = largest / 7.0f;
  for (int i = 0; i < k; ++i) row.q[i] = int8_t(std::clamp(std::nearbyint(lo[i] / row.scale), -7.0f, 7.0f));
  return row;
}

void quantize_rows_int8(const float* x, int64_t ldx, int row_begin, int row_end, int m, int k, int8_t* a, int64_t lda,
                        float* scale, int32_t* row_sum) {
  if (cpu_isa() >= CpuIsa::Avx512) quantize_rows_int8_avx512(x, ldx, row_begin, row_end, m, k, a, lda, scale, row_sum);
  else quantize_rows_int8_reference(x, ldx, row_begin, row_end, m, k, a, lda, scale, row_sum);
}

void quantize_rows_int8_reference(const float* x, int64_t ldx, int row_begin, int row_end, int m, int k, int8_t* a, int64_t lda,
                                  float* scale, int32_t* row_sum) {
  for (int r = row_begin; r < row_end; ++r) {
    int8_t* out = a + int64_t(r) * lda;
    std::memset(out, 0, size_t(lda));
    scale[r] = 0;
    row_sum[r] = 0;
    if (r >= m) continue;
    const float* row = x + int64_t(r) * ldx;
    float largest = 0;
    for (int i = 0; i < k; ++i) largest = std::max(largest, std::fabs(row[i]));
    if (!(largest > 0) || !std::isfinite(largest)) continue;
    const float inverse = 127.0f / largest;
    int32_t sum = 0;
    for (int i = 0; i < k; ++i) {
      const int v = int(std::clamp(std::nearbyint(row[i] * inverse), -127.0f, 127.0f));
      out[i] = int8_t(v);
      sum += v;
    }
    scale[r] = largest / 127.0f;
    row_sum[r] = sum;
  }
}

PackedBf16x3qMatrix pack_bf16x3q_nk(const float* w, int n, int k) {
  PackedBf16x3qMatrix packed;
  std::vector<float> hi(size_t(n) * k);
  for (size_t i = 0; i < hi.size(); ++i) hi[i] = bf16_to_float_exact(float_to_bf16(w[i]));
  packed.hi = pack_bf16_nk(hi.data(), n, k, Bf16Layout::AmxTiles);
  packed.k_padded64 = padded_k64(k);
  const int panels = (n + kBf16PanelWidth - 1) / kBf16PanelWidth;
  const int steps = packed.k_padded64 / kLo4KStep;
  const int64_t panel_bytes = int64_t(steps) * kLo4StepBytes;
  packed.lo4.resize(size_t(panels * panel_bytes / 4));
  uint8_t* lo4 = reinterpret_cast<uint8_t*>(packed.lo4.data());
  std::memset(lo4, 0x88, size_t(panels * panel_bytes));  // q = 0 in both nibbles: the padding
  packed.lo_scale.assign(size_t(panels) * kBf16PanelWidth, 0.0f);
  for (int j = 0; j < n; ++j) {
    const Lo4Row row = quantize_lo4_row(w + int64_t(j) * k, k);
    packed.lo_scale[j] = row.scale;
    const int c = j % kBf16PanelWidth;
    uint8_t* panel = lo4 + (j / kBf16PanelWidth) * panel_bytes;
    for (int i = 0; i < k; ++i) {
      uint8_t& byte = panel[(i / kLo4KStep) * kLo4StepBytes + lo4_byte(c, i % kLo4KStep)];
      const uint8_t u = uint8_t(row.q[i] + 8);
      byte = c < 16 ? uint8_t((byte & 0xF0) | u) : uint8_t((byte & 0x0F) | (u << 4));
    }
  }
  return packed;
}

void gemm_bf16x3q(int m, int n, int k, const float* x, int64_t ldx, const PackedBf16x3qMatrix& w, const float* bias, float* y,
                  int64_t ldy, ThreadPool* pool, Epilogue epilogue) {
  if (m <= 0 || n <= 0) return;
  if (w.hi.n != n || w.hi.k != k) throw EngineError(ErrorCode::Internal, "bf16x3q GEMM shape does not match its packed weights");
  if (cpu_isa_detected() < CpuIsa::Amx) throw EngineError(ErrorCode::Internal, "the bf16x3q GEMM needs AMX");
  const int rows_padded = (m + 31) / 32 * 32;
  const int kp = w.hi.k_padded, kp64 = w.k_padded64;
  // Scratch per calling thread, only growing: bf16 rows [X_hi | X_lo], then the int8 rows, their
  // scales and sums.
  const int64_t ldxb = 2 * int64_t(kp);
  const size_t bf16_bytes = size_t(rows_padded) * ldxb * 2, int8_bytes = size_t(rows_padded) * kp64;
  thread_local AlignedBuffer scratch;
  scratch.resize((bf16_bytes + int8_bytes) / 4 + 2 * size_t(rows_padded) + 16);
  uint16_t* xb = reinterpret_cast<uint16_t*>(scratch.data());
  int8_t* a = reinterpret_cast<int8_t*>(reinterpret_cast<uint8_t*>(scratch.data()) + bf16_bytes);
  float* a_scale = scratch.data() + (bf16_bytes + int8_bytes) / 4;
  int32_t* a_sum = reinterpret_cast<int32_t*>(a_scale + rows_padded);
  auto prepare = [&](int64_t block, int) {
    const int begin = int(block) * 32, end = std::min(rows_padded, begin + 32);
    split_rows_bf16x3(x, ldx, m, k, kp, xb, begin, end);
    quantize_rows_int8(x, ldx, begin, end, m, k, a, kp64, a_scale, a_sum);
  };
  const int blocks = rows_padded / 32;
  if (pool && blocks > 1) pool->parallel_for(blocks, prepare);
  else for (int64_t b = 0; b < blocks; ++b) prepare(b, 0);

  // Panel groups of about 1 MiB of weights, as gemm_bf16_converted cuts them, so a group stays in
  // L2 while the row blocks pass over it.
  const int64_t panel_bytes = int64_t(kp) * kBf16PanelWidth * 2 + int64_t(kp64) * kBf16PanelWidth / 2;
  const int max_group_panels = int(std::max<int64_t>(1, (int64_t(1) << 20) / panel_bytes));
  const GemmTaskGrid grid(m, (n + kBf16PanelWidth - 1) / kBf16PanelWidth, gemm_block_rows(m, 32, 32), pool ? pool->size() : 1,
                          max_group_panels);
  auto run_task = [&](int64_t t, int) {
    const GemmTaskGrid::Task task = grid.task(t);
    amx_tiles_begin();
    for (int r = task.row_begin; r < task.row_end; r += 32) {
      const Bf16x3qRows rows{xb + int64_t(r) * ldxb, ldxb, kp, a + int64_t(r) * kp64, kp64, a_scale + r, a_sum + r, r == task.row_begin};
      bf16x3q_row_block_amx(std::min(32, task.row_end - r), rows, w, task.panel_begin, task.panel_end, bias, y + int64_t(r) * ldy, ldy,
                            epilogue);
    }
    amx_tiles_end();
  };
  const int64_t tasks = grid.tasks();
  if (pool && tasks > 1) pool->parallel_for(tasks, run_task);
  else for (int64_t t = 0; t < tasks; ++t) run_task(t, 0);
}

void gemm_bf16x3q_reference(int m, int n, int k, const float* x, int64_t ldx, const float* w, const float* bias, float* y,
                            int64_t ldy, Epilogue epilogue) {
  std::vector<int8_t> a(size_t(std::max(1, m)) * k);
  std::vector<float> a_scale(size_t(std::max(1, m)));
  std::vector<int32_t> a_sum(size_t(std::max(1, m)));
  quantize_rows_int8_reference(x, ldx, 0, m, m, k, a.data(), k, a_scale.data(), a_sum.data());
  for (int j = 0; j < n; ++j) {
    const float* w_row = w + int64_t(j) * k;
    const Lo4Row lo = quantize_lo4_row(w_row, k);
    for (int i = 0; i < m; ++i) {
      double sum = bias ? bias[j] : 0.0, correction = 0.0;
      for (int p = 0; p < k; ++p) {
        const float v = x[int64_t(i) * ldx + p];
        const uint16_t xh = float_to_bf16(v);
        const uint16_t xl = float_to_bf16(v - bf16_to_float_exact(xh));
        const double wh = bf16_to_float_exact(float_to_bf16(w_row[p]));
        sum += (double(bf16_to_float_exact(xh)) + double(bf16_to_float_exact(xl))) * wh;
        correction += double(a[size_t(i) * k + p]) * double(lo.q[p]);
      }
      sum += double(a_scale[i]) * double(lo.scale) * correction;
      if (epilogue == Epilogue::Gelu) sum = 0.5 * sum * (1.0 + std::erf(sum / std::sqrt(2.0)));
      y[int64_t(i) * ldy + j] = float(sum);
    }
  }
}

}  // namespace sie
