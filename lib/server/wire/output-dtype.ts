/**
 * Output dtypes of SIE's encode: float32 as computed; float16 rounded to half precision;
 * int8 / uint8 scalar-quantised assuming values in [-1, 1] (unit-normalised embeddings);
 * binary / ubinary as sentence-transformers' quantize_embeddings packs them: one bit per
 * dimension (value > 0), eight to a byte, most significant bit first; binary is that byte - 128.
 */
import type { OutputDtype } from './sie-api-types.js';

export function convertValues(values: Float32Array, dtype: OutputDtype): number[] {
  switch (dtype) {
    case 'float32':
      return Array.from(values);
    case 'float16':
      return Array.from(values, roundToFloat16);
    case 'int8':
      return Array.from(values, (v) => Math.max(-127, Math.min(127, Math.round(v * 127))));
    case 'uint8':
      return Array.from(values, (v) => Math.max(0, Math.min(255, Math.round((v + 1) * 127.5))));
    case 'binary':
      return packBits(values).map((b) => b - 128);
    case 'ubinary':
      return packBits(values);
  }
}

function packBits(values: Float32Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i += 8) {
    let byte = 0;
    for (let bit = 0; bit < 8; bit++) byte = (byte << 1) | (i + bit < values.length && values[i + bit] > 0 ? 1 : 0);
    out.push(byte);
  }
  return out;
}

/** Rounds a float32 to the nearest float16 value (round half to even), returned as a number. */
export function roundToFloat16(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const abs = Math.abs(value);
  if (abs >= 65520) return Math.sign(value) * Infinity;
  if (abs < 2 ** -24 / 2) return Math.sign(value) * 0;
  // Spacing of float16 values at this magnitude (subnormals below 2^-14 share 2^-24).
  const exponent = Math.max(Math.floor(Math.log2(abs)), -14);
  const step = 2 ** (exponent - 10);
  const q = abs / step;
  let rounded = Math.round(q);
  if (Math.abs(q - Math.trunc(q) - 0.5) < 1e-12 && rounded % 2 === 1) rounded -= 1;
  return Math.sign(value) * rounded * step;
}

/** Bytes per dense vector of `dims` values in a dtype (for docs and tests). */
export function packedDims(dims: number, dtype: OutputDtype): number {
  return dtype === 'binary' || dtype === 'ubinary' ? Math.ceil(dims / 8) : dims;
}
