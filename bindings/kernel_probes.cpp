#include "kernel_probes.h"

#include <algorithm>
#include <vector>

#include "../native/core/cpu_features.h"
#include "../native/cpu/gemm/bf16_gemm.h"
#include "../native/cpu/gemm/bf16x3q_gemm.h"
#include "../native/cpu/gemm/packed_gemm.h"
#include "../native/cpu/kernels/attention_short_bf16.h"
#include "../native/cpu/kernels/elementwise.h"
#include "../native/cpu/kernels/pooling.h"
#include "error_translation.h"
#include "typed_arrays.h"

namespace sie_bindings {
namespace {

int int_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw argument_error(info.Env(), std::string(name) + " must be a number");
  const int v = info[i].As<Napi::Number>().Int32Value();
  if (v < 0) throw argument_error(info.Env(), std::string(name) + " must not be negative");
  return v;
}

void require_length(Napi::Env env, size_t have, size_t need, const char* name) {
  if (have < need) throw argument_error(env, std::string(name) + " is too short for the given shape");
}

// gemm(x, w, bias|null, m, n, k, reference, threads, gelu) -> Float32Array y[m, n] = x · wᵀ + bias
// (then GELU when gelu is true: the fused epilogue, or the reference GEMM followed by reference GELU)
// The operands both GEMM probes take: (x, w, bias|null, m, n, k, <kernel>, threads, gelu).
struct GemmProbeArgs {
  const float* x;
  const float* w;
  const float* bias = nullptr;
  int m, n, k, threads;
  bool gelu;
};

GemmProbeArgs gemm_probe_args(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = float32_array(info[0], "x");
  auto w = float32_array(info[1], "w");
  GemmProbeArgs a{x.Data(), w.Data(), nullptr, int_arg(info, 3, "m"), int_arg(info, 4, "n"), int_arg(info, 5, "k"), 1, false};
  a.threads = info.Length() > 7 && info[7].IsNumber() ? std::max(1, info[7].As<Napi::Number>().Int32Value()) : 1;
  a.gelu = info.Length() > 8 && info[8].ToBoolean();
  require_length(env, x.ElementLength(), size_t(a.m) * a.k, "x");
  require_length(env, w.ElementLength(), size_t(a.n) * a.k, "w");
  if (!info[2].IsNull() && !info[2].IsUndefined()) {
    auto b = float32_array(info[2], "bias");
    require_length(env, b.ElementLength(), size_t(a.n), "bias");
    a.bias = b.Data();
  }
  return a;
}

Napi::Value gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const GemmProbeArgs a = gemm_probe_args(info);
  const bool reference = info[6].ToBoolean();
  const int m = a.m, n = a.n, k = a.k, threads = a.threads;
  const bool gelu = a.gelu;
  const float* bias = a.bias;
  std::vector<float> y(size_t(m) * n);
  if (reference) {
    sie::gemm_reference(m, n, k, a.x, k, a.w, k, bias, y.data(), n);
    if (gelu) sie::gelu_erf_reference(y.data(), int64_t(y.size()));
  } else {
    sie::PackedMatrix packed = sie::pack_linear_weights(a.w, n, k);
    sie::ThreadPool pool(threads);
    sie::gemm_packed(m, n, k, a.x, k, packed.panels.data(), bias, y.data(), n, &pool,
                     gelu ? sie::Epilogue::Gelu : sie::Epilogue::None);
  }
  return float32_array_from(env, std::move(y));
}

// gemmBf16(x, w, bias|null, m, n, k, kernel, threads, gelu): kernel 'amx' | 'avx512bf16' (the
// fast paths, refused where the CPU lacks them) or 'reference' (the double-precision twin);
// 'bf16x3' (AMX) and 'bf16x3-reference' its twin, for the three-product fp32-grade GEMM;
// 'bf16x3q' (AMX) and 'bf16x3q-reference', for its form with 4-bit weight remainders.
Napi::Value gemm_bf16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const GemmProbeArgs a = gemm_probe_args(info);
  if (!info[6].IsString()) throw argument_error(env, "kernel must be 'amx', 'avx512bf16' or 'reference'");
  const std::string kernel = info[6].As<Napi::String>().Utf8Value();
  const int m = a.m, n = a.n, k = a.k;
  const sie::Epilogue epilogue = a.gelu ? sie::Epilogue::Gelu : sie::Epilogue::None;
  std::vector<float> y(size_t(m) * n);
  if (kernel == "reference") {
    sie::gemm_bf16_reference(m, n, k, a.x, k, a.w, a.bias, y.data(), n, epilogue);
    return float32_array_from(env, std::move(y));
  }
  if (kernel == "bf16x3-reference") {
    sie::gemm_bf16x3_reference(m, n, k, a.x, k, a.w, a.bias, y.data(), n, epilogue);
    return float32_array_from(env, std::move(y));
  }
  if (kernel == "bf16x3q-reference") {
    sie::gemm_bf16x3q_reference(m, n, k, a.x, k, a.w, a.bias, y.data(), n, epilogue);
    return float32_array_from(env, std::move(y));
  }
  if (kernel == "bf16x3q") {
    if (sie::cpu_isa_detected() < sie::CpuIsa::Amx) throw coded_error(env, sie::ErrorCode::DeviceUnavailable, "bf16x3q needs AMX");
    const sie::PackedBf16x3qMatrix packed = sie::pack_bf16x3q_nk(a.w, n, k);
    sie::ThreadPool pool(a.threads);
    translate_errors(env, [&]() { sie::gemm_bf16x3q(m, n, k, a.x, k, packed, a.bias, y.data(), n, &pool, epilogue); });
    return float32_array_from(env, std::move(y));
  }
  if (kernel == "bf16x3") {
    if (sie::cpu_isa_detected() < sie::CpuIsa::Amx) throw coded_error(env, sie::ErrorCode::DeviceUnavailable, "bf16x3 needs AMX");
    const sie::PackedBf16x3Matrix packed = sie::pack_bf16x3_nk(a.w, n, k);
    sie::ThreadPool pool(a.threads);
    translate_errors(env, [&]() { sie::gemm_bf16x3(m, n, k, a.x, k, packed, a.bias, y.data(), n, &pool, epilogue); });
    return float32_array_from(env, std::move(y));
  }
  const sie::CpuIsa isa = kernel == "amx" ? sie::CpuIsa::Amx : kernel == "avx512bf16" ? sie::CpuIsa::Avx512Bf16 : sie::CpuIsa::Portable;
  if (isa == sie::CpuIsa::Portable) throw argument_error(env, "kernel must be 'amx', 'avx512bf16' or 'reference'");
  if (sie::cpu_isa_detected() < isa) throw coded_error(env, sie::ErrorCode::DeviceUnavailable, kernel + " is not available on this CPU");
  const sie::PackedBf16Matrix packed = sie::pack_bf16_nk(a.w, n, k, sie::bf16_layout_for(isa));
  sie::ThreadPool pool(a.threads);
  translate_errors(env, [&]() { sie::gemm_bf16(m, n, k, a.x, k, packed, a.bias, y.data(), n, &pool, epilogue, isa); });
  return float32_array_from(env, std::move(y));
}

// gemmBf16Panels(x, w, m, n, k, layout, kernel, ld): the attention form of the bf16 GEMM, one
// thread, panels packed into plain memory. layout 'nk': w holds n rows of k values; 'kn': w holds
// k rows of n values (attention's V) and the product uses its transpose. Rows of w are ld apart.
Napi::Value gemm_bf16_panels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = float32_array(info[0], "x");
  auto w = float32_array(info[1], "w");
  const int m = int_arg(info, 2, "m"), n = int_arg(info, 3, "n"), k = int_arg(info, 4, "k");
  const std::string layout = info[5].IsString() ? info[5].As<Napi::String>().Utf8Value() : "";
  const std::string kernel = info[6].IsString() ? info[6].As<Napi::String>().Utf8Value() : "";
  const int ld = int_arg(info, 7, "ld");
  if (layout != "nk" && layout != "kn") throw argument_error(env, "layout must be 'nk' or 'kn'");
  const sie::CpuIsa isa = kernel == "amx" ? sie::CpuIsa::Amx : kernel == "avx512bf16" ? sie::CpuIsa::Avx512Bf16 : sie::CpuIsa::Portable;
  if (isa == sie::CpuIsa::Portable) throw argument_error(env, "kernel must be 'amx' or 'avx512bf16'");
  if (sie::cpu_isa_detected() < isa) throw coded_error(env, sie::ErrorCode::DeviceUnavailable, kernel + " is not available on this CPU");
  const int rows = layout == "nk" ? n : k, cols = layout == "nk" ? k : n;
  if (ld < cols) throw argument_error(env, "ld must be at least the row length");
  require_length(env, x.ElementLength(), size_t(m) * k, "x");
  require_length(env, w.ElementLength(), size_t(rows) * ld, "w");
  // Aligned as the engine's scratch is (the register kernel loads panels with aligned loads), and
  // filled with garbage: packing must zero the padding itself.
  sie::AlignedBuffer buffer;
  buffer.resize(size_t((sie::bf16_packed_elements(n, k) + 1) / 2));
  uint16_t* panels = reinterpret_cast<uint16_t*>(buffer.data());
  std::fill(panels, panels + sie::bf16_packed_elements(n, k), uint16_t(0xFFFF));
  if (layout == "nk") sie::pack_bf16_nk_into(w.Data(), n, k, ld, panels, isa, sie::bf16_layout_for(isa));
  else sie::pack_bf16_kn_into(w.Data(), k, n, ld, panels, isa, sie::bf16_layout_for(isa));
  std::vector<float> y(size_t(m) * n);
  translate_errors(env, [&]() { sie::gemm_bf16_panels(m, n, k, x.Data(), k, panels, nullptr, y.data(), n, nullptr, sie::Epilogue::None, isa); });
  return float32_array_from(env, std::move(y));
}

Napi::Object cpu_isa_info(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("detected", sie::cpu_isa_name(sie::cpu_isa_detected()));
  out.Set("active", sie::cpu_isa_name(sie::cpu_isa()));
  return out;
}

std::vector<float> copy_of(const Napi::TypedArrayOf<float>& a) { return std::vector<float>(a.Data(), a.Data() + a.ElementLength()); }

// gelu(x, reference) -> Float32Array
Napi::Value gelu(const Napi::CallbackInfo& info) {
  std::vector<float> x = copy_of(float32_array(info[0], "x"));
  if (info[1].ToBoolean()) sie::gelu_erf_reference(x.data(), int64_t(x.size()));
  else sie::gelu_erf(x.data(), int64_t(x.size()));
  return float32_array_from(info.Env(), std::move(x));
}

// sigmoidGate(x, alpha, reference) -> Float32Array: x * sigmoid(alpha x)
Napi::Value sigmoid_gate(const Napi::CallbackInfo& info) {
  std::vector<float> x = copy_of(float32_array(info[0], "x"));
  if (!info[1].IsNumber()) throw argument_error(info.Env(), "alpha must be a number");
  const float alpha = info[1].As<Napi::Number>().FloatValue();
  if (info[2].ToBoolean()) sie::sigmoid_gate_reference(x.data(), int64_t(x.size()), alpha);
  else sie::sigmoid_gate(x.data(), int64_t(x.size()), alpha);
  return float32_array_from(info.Env(), std::move(x));
}

// softmax(x, rows, cols, reference) -> Float32Array
Napi::Value softmax(const Napi::CallbackInfo& info) {
  std::vector<float> x = copy_of(float32_array(info[0], "x"));
  const int rows = int_arg(info, 1, "rows"), cols = int_arg(info, 2, "cols");
  require_length(info.Env(), x.size(), size_t(rows) * cols, "x");
  if (cols == 0) throw argument_error(info.Env(), "cols must be positive");
  if (info[3].ToBoolean()) sie::softmax_rows_reference(x.data(), rows, cols, cols);
  else sie::softmax_rows(x.data(), rows, cols, cols);
  return float32_array_from(info.Env(), std::move(x));
}

// packBf16FromBf16(w, n, k, ld, layout, packer, order) -> Uint16Array: attention's packing of bf16
// rows (w's values rounded to bf16 first) into panels, by packer 'avx512' or 'reference', in a
// buffer filled with garbage so that padding must be written. Packer 'fp32' packs the same rounded
// values from floats with the packer gemmBf16Panels checks, as a third opinion. layout as in
// gemmBf16Panels; order, the panels' Bf16Layout: 'rows' (AVX512-BF16) or 'amx-tiles'.
Napi::Value pack_bf16_from_bf16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto w = float32_array(info[0], "w");
  const int n = int_arg(info, 1, "n"), k = int_arg(info, 2, "k"), ld = int_arg(info, 3, "ld");
  const std::string layout = info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : "";
  const std::string packer = info[5].IsString() ? info[5].As<Napi::String>().Utf8Value() : "";
  if (layout != "nk" && layout != "kn") throw argument_error(env, "layout must be 'nk' or 'kn'");
  if (packer != "avx512" && packer != "reference" && packer != "fp32") throw argument_error(env, "packer must be 'avx512', 'reference' or 'fp32'");
  const std::string order = info[6].IsString() ? info[6].As<Napi::String>().Utf8Value() : "";
  if (order != "rows" && order != "amx-tiles") throw argument_error(env, "order must be 'rows' or 'amx-tiles'");
  const sie::Bf16Layout panel_order = order == "rows" ? sie::Bf16Layout::Rows : sie::Bf16Layout::AmxTiles;
  if (packer == "avx512" && sie::cpu_isa_detected() < sie::CpuIsa::Avx512) throw coded_error(env, sie::ErrorCode::DeviceUnavailable, "this CPU has no AVX-512");
  const int rows = layout == "nk" ? n : k, cols = layout == "nk" ? k : n;
  if (ld < cols) throw argument_error(env, "ld must be at least the row length");
  require_length(env, w.ElementLength(), size_t(rows) * ld, "w");
  std::vector<uint16_t> source(size_t(rows) * ld);
  for (size_t i = 0; i < source.size(); ++i) source[i] = sie::float_to_bf16(w.Data()[i]);
  const int64_t elements = sie::bf16_packed_elements(n, k);
  Napi::Uint16Array out = Napi::Uint16Array::New(env, size_t(elements));
  std::fill(out.Data(), out.Data() + elements, uint16_t(0xFFFF));
  if (packer == "fp32") {
    std::vector<float> rounded(source.size());
    for (size_t i = 0; i < source.size(); ++i) rounded[i] = sie::bf16_to_float_exact(source[i]);
    if (layout == "nk") sie::pack_bf16_nk_into(rounded.data(), n, k, ld, out.Data(), sie::CpuIsa::Portable, panel_order);
    else sie::pack_bf16_kn_into(rounded.data(), k, n, ld, out.Data(), sie::CpuIsa::Portable, panel_order);
    return out;
  }
  const sie::CpuIsa isa = packer == "avx512" ? sie::CpuIsa::Avx512 : sie::CpuIsa::Portable;
  if (layout == "nk") sie::pack_bf16_nk_from_bf16(source.data(), n, k, ld, out.Data(), isa, panel_order);
  else sie::pack_bf16_kn_from_bf16(source.data(), k, n, ld, out.Data(), isa, panel_order);
  return out;
}

// softmaxBf16(x, rows, cols, reference) -> Float32Array of rows x roundup32(cols): the bf16
// probabilities (decoded exactly), zero padding included. The fast body needs AVX512-BF16.
Napi::Value softmax_bf16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<float> x = copy_of(float32_array(info[0], "x"));
  const int rows = int_arg(info, 1, "rows"), cols = int_arg(info, 2, "cols");
  require_length(env, x.size(), size_t(rows) * cols, "x");
  if (cols == 0) throw argument_error(env, "cols must be positive");
  const bool reference = info[3].ToBoolean();
  if (!reference && sie::cpu_isa() < sie::CpuIsa::Avx512Bf16) throw coded_error(env, sie::ErrorCode::DeviceUnavailable, "this CPU has no AVX512-BF16");
  const int padded = (cols + 31) / 32 * 32;
  std::vector<uint16_t> out(size_t(rows) * padded, 0xFFFF);
  if (reference) sie::softmax_rows_to_bf16_reference(x.data(), rows, cols, cols, out.data(), padded, padded);
  else sie::softmax_rows_to_bf16(x.data(), rows, cols, cols, out.data(), padded, padded);
  std::vector<float> decoded(out.size());
  for (size_t i = 0; i < out.size(); ++i) decoded[i] = sie::bf16_to_float_exact(out[i]);
  return float32_array_from(env, std::move(decoded));
}

// attentionShortBf16(qkv, length, headDim, ld, kOffset, vOffset, rowBegin, rowEnd, route) ->
// Float32Array of (rowEnd - rowBegin) x headDim: one head's bf16 context, decoded exactly. qkv
// holds `length` rows `ld` apart, rounded to bf16 here; Q starts at 0, K at kOffset, V at vOffset.
// route 'short' is the register kernel, 'general' the encoder's general route (packed K and V, the
// AVX512-BF16 GEMM, the bf16 softmax, the GEMM again), 'reference' the double twin.
Napi::Value attention_short_bf16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto qkv = float32_array(info[0], "qkv");
  const int length = int_arg(info, 1, "length"), d = int_arg(info, 2, "headDim"), ld = int_arg(info, 3, "ld");
  const int k_offset = int_arg(info, 4, "kOffset"), v_offset = int_arg(info, 5, "vOffset");
  const int row_begin = int_arg(info, 6, "rowBegin"), row_end = int_arg(info, 7, "rowEnd");
  const std::string route = info[8].IsString() ? info[8].As<Napi::String>().Utf8Value() : "";
  if (route != "short" && route != "general" && route != "reference") throw argument_error(env, "route must be 'short', 'general' or 'reference'");
  if (route != "reference" && sie::cpu_isa_detected() < sie::CpuIsa::Avx512Bf16)
    throw coded_error(env, sie::ErrorCode::DeviceUnavailable, "this CPU has no AVX512-BF16");
  if (!sie::short_attention_bf16_fits(length, d, sie::CpuIsa::Avx512Bf16)) throw argument_error(env, "length must be 1-32 and headDim 32 or 64");
  if (row_begin < 0 || row_end > length || row_begin >= row_end) throw argument_error(env, "rows must lie within the sequence");
  if (k_offset < d || v_offset < k_offset + d || ld < v_offset + d) throw argument_error(env, "Q, K and V must not overlap within a row");
  require_length(env, qkv.ElementLength(), size_t(length) * ld, "qkv");
  std::vector<uint16_t> rounded(size_t(length) * ld);
  for (size_t i = 0; i < rounded.size(); ++i) rounded[i] = sie::float_to_bf16(qkv.Data()[i]);
  const uint16_t *q = rounded.data(), *k = q + k_offset, *v = q + v_offset;
  const int rows = row_end - row_begin;
  std::vector<uint16_t> out(size_t(length) * d, 0xFFFF);
  if (route == "short") {
    sie::short_attention_bf16(length, d, q, k, v, ld, row_begin, row_end, out.data(), d);
  } else if (route == "reference") {
    sie::short_attention_bf16_reference(length, d, q, k, v, ld, row_begin, row_end, out.data(), d);
  } else {
    const sie::CpuIsa isa = sie::CpuIsa::Avx512Bf16;
    const int kp = sie::bf16_padded_k(length);
    sie::AlignedBuffer keys, values, probabilities;
    keys.resize(size_t(sie::bf16_packed_elements(length, d) / 2));
    values.resize(size_t(sie::bf16_packed_elements(d, length) / 2));
    probabilities.resize(size_t(rows) * kp / 2 + 16);
    auto* keys16 = reinterpret_cast<uint16_t*>(keys.data());
    auto* values16 = reinterpret_cast<uint16_t*>(values.data());
    auto* p16 = reinterpret_cast<uint16_t*>(probabilities.data());
    sie::pack_bf16_nk_from_bf16(k, length, d, ld, keys16, isa, sie::bf16_layout_for(isa));
    sie::pack_bf16_kn_from_bf16(v, length, d, ld, values16, isa, sie::bf16_layout_for(isa));
    std::vector<float> scores(size_t(rows) * length);
    sie::gemm_bf16_converted(rows, length, d, q + int64_t(row_begin) * ld, ld, keys16, nullptr, scores.data(), length, nullptr,
                             sie::Epilogue::None, isa);
    sie::softmax_rows_to_bf16(scores.data(), rows, length, length, p16, kp, kp);
    sie::gemm_bf16_converted(rows, d, kp, p16, kp, values16, nullptr, nullptr, d, nullptr, sie::Epilogue::None, isa,
                             out.data() + int64_t(row_begin) * d);
  }
  std::vector<float> decoded(size_t(rows) * d);
  for (size_t i = 0; i < decoded.size(); ++i) decoded[i] = sie::bf16_to_float_exact(out[size_t(row_begin) * d + i]);
  return float32_array_from(env, std::move(decoded));
}

// addLayerNorm(x, residual|null, gamma, beta, rows, cols, eps, reference, withBf16Copy) -> Float32Array
Napi::Value add_layer_norm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<float> x = copy_of(float32_array(info[0], "x"));
  std::vector<float> residual;
  if (!info[1].IsNull()) residual = copy_of(float32_array(info[1], "residual"));
  auto gamma = float32_array(info[2], "gamma");
  auto beta = float32_array(info[3], "beta");
  const int rows = int_arg(info, 4, "rows"), cols = int_arg(info, 5, "cols");
  const float eps = info[6].As<Napi::Number>().FloatValue();
  require_length(env, x.size(), size_t(rows) * cols, "x");
  if (!residual.empty()) require_length(env, residual.size(), size_t(rows) * cols, "residual");
  require_length(env, gamma.ElementLength(), size_t(cols), "gamma");
  require_length(env, beta.ElementLength(), size_t(cols), "beta");
  const float* res = residual.empty() ? nullptr : residual.data();
  const bool reference = info[7].ToBoolean();
  if (info[8].ToBoolean()) {
    // With a bf16 copy: [x after the norm | the copy, decoded exactly, 32-padded rows].
    const int padded = (cols + 31) / 32 * 32;
    std::vector<uint16_t> copy(size_t(rows) * padded, 0xFFFF);
    if (reference) sie::add_layer_norm_to_bf16_reference(x.data(), res, rows, cols, cols, gamma.Data(), beta.Data(), eps, copy.data(), padded, padded);
    else sie::add_layer_norm_to_bf16(x.data(), res, rows, cols, cols, gamma.Data(), beta.Data(), eps, copy.data(), padded, padded);
    for (uint16_t v : copy) x.push_back(sie::bf16_to_float_exact(v));
    return float32_array_from(env, std::move(x));
  }
  if (reference) sie::add_layer_norm_reference(x.data(), res, rows, cols, cols, gamma.Data(), beta.Data(), eps);
  else sie::add_layer_norm(x.data(), res, rows, cols, cols, gamma.Data(), beta.Data(), eps);
  return float32_array_from(env, std::move(x));
}

}  // namespace

Napi::Object define_kernel_probes(Napi::Env env) {
  Napi::Object probes = Napi::Object::New(env);
  probes.Set("gemm", Napi::Function::New(env, gemm));
  probes.Set("gelu", Napi::Function::New(env, gelu));
  probes.Set("sigmoidGate", Napi::Function::New(env, sigmoid_gate));
  probes.Set("softmax", Napi::Function::New(env, softmax));
  probes.Set("softmaxBf16", Napi::Function::New(env, softmax_bf16));
  probes.Set("addLayerNorm", Napi::Function::New(env, add_layer_norm));
  probes.Set("gemmKernel", Napi::String::New(env, sie::gemm_kernel_name()));
  probes.Set("gemmBf16", Napi::Function::New(env, gemm_bf16));
  probes.Set("gemmBf16Panels", Napi::Function::New(env, gemm_bf16_panels));
  probes.Set("packBf16FromBf16", Napi::Function::New(env, pack_bf16_from_bf16));
  probes.Set("attentionShortBf16", Napi::Function::New(env, attention_short_bf16));
  probes.Set("cpuIsa", cpu_isa_info(env));
  return probes;
}

}  // namespace sie_bindings
