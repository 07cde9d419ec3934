/**
 * Output dtypes of SIE's encode, as numpy arrays on the wire: float32 as computed; float16
 * rounded to half precision; int8 / uint8 scalar-quantised assuming values in [-1, 1]
 * (unit-normalised embeddings); binary / ubinary as sentence-transformers' quantize_embeddings
 * packs them: one bit per dimension (value > 0), eight to a byte, most significant bit first;
 * binary is that byte - 128 (int8), ubinary the byte itself (uint8).
 */
import { float32ToFloat16Bits, NumpyArray } from './numpy-array.js';
import type { OutputDtype } from './sie-api-types.js';

/** One vector (or `rows` vectors of equal width, row-major) in an output dtype. */
export function toOutputDtype(values: Float32Array, dtype: OutputDtype, rows?: number): NumpyArray {
  const shape = (width: number) => (rows === undefined ? [width] : [rows, width]);
  const width = rows === undefined ? values.length : rows === 0 ? 0 : values.length / rows;
  switch (dtype) {
    case 'float32':
      return NumpyArray.float32(values, shape(width));
    case 'float16': {
      const bits = Uint16Array.from(values, float32ToFloat16Bits);
      return new NumpyArray('<f2', shape(width), new Uint8Array(bits.buffer));
    }
    case 'int8':
      return new NumpyArray('|i1', shape(width), new Uint8Array(Int8Array.from(values, (v) => Math.max(-127, Math.min(127, Math.round(v * 127)))).buffer));
    case 'uint8':
      return new NumpyArray('|u1', shape(width), Uint8Array.from(values, (v) => Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)))));
    case 'binary':
    case 'ubinary': {
      const packedWidth = Math.ceil(width / 8);
      const count = rows ?? 1;
      const out = new Uint8Array(count * packedWidth);
      for (let r = 0; r < count; r++) out.set(packBits(values.subarray(r * width, (r + 1) * width)), r * packedWidth);
      if (dtype === 'ubinary') return new NumpyArray('|u1', shape(packedWidth), out);
      return new NumpyArray('|i1', shape(packedWidth), new Uint8Array(Int8Array.from(out, (b) => b - 128).buffer));
    }
  }
}

function packBits(values: Float32Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i += 8) {
    let byte = 0;
    for (let bit = 0; bit < 8; bit++) byte = (byte << 1) | (i + bit < values.length && values[i + bit] > 0 ? 1 : 0);
    out[i / 8] = byte;
  }
  return out;
}

/** Bytes per dense vector of `dims` values in a dtype (for docs and tests). */
export function packedDims(dims: number, dtype: OutputDtype): number {
  return dtype === 'binary' || dtype === 'ubinary' ? Math.ceil(dims / 8) : dims;
}
