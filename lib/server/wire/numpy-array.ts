/**
 * Arrays as SIE puts them on the wire. In msgpack, msgpack-numpy's map (binary keys nd, type,
 * kind, shape, data; raw little-endian bytes), which SIE's Python SDK turns into numpy arrays and
 * its TypeScript SDK into typed arrays; in JSON, plain (nested) lists (toJSON).
 */
import { float16BitsToNumber } from '../../sdk/float16.js';

export type NumpyDtype = '<f4' | '<f2' | '|i1' | '|u1' | '<i4';

export class NumpyArray {
  constructor(readonly dtype: NumpyDtype, readonly shape: number[], readonly data: Uint8Array) {}

  static float32(values: Float32Array, shape = [values.length]): NumpyArray {
    return new NumpyArray('<f4', shape, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }

  static int32(values: Int32Array): NumpyArray {
    return new NumpyArray('<i4', [values.length], new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }

  /** Element values as numbers, row-major. */
  values(): number[] {
    const { buffer, byteOffset, byteLength } = this.data;
    switch (this.dtype) {
      case '<f4': return Array.from(new Float32Array(buffer.slice(byteOffset, byteOffset + byteLength)));
      case '<i4': return Array.from(new Int32Array(buffer.slice(byteOffset, byteOffset + byteLength)));
      case '<f2': return Array.from(new Uint16Array(buffer.slice(byteOffset, byteOffset + byteLength)), float16BitsToNumber);
      case '|i1': return Array.from(new Int8Array(buffer, byteOffset, byteLength));
      case '|u1': return Array.from(this.data);
    }
  }

  /** JSON.stringify writes the array as a list (a list of rows when 2-D). */
  toJSON(): number[] | number[][] {
    const flat = this.values();
    if (this.shape.length !== 2) return flat;
    const [rows, cols] = this.shape;
    return Array.from({ length: rows }, (_, r) => flat.slice(r * cols, (r + 1) * cols));
  }

  /** msgpack-numpy's encoding: a map whose keys are binary strings. */
  toMsgpackNumpy(): Map<Buffer, unknown> {
    const key = (name: string) => Buffer.from(name, 'latin1');
    return new Map<Buffer, unknown>([
      [key('nd'), true],
      [key('type'), this.dtype],
      [key('kind'), Buffer.alloc(0)],
      [key('shape'), this.shape],
      [key('data'), Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength)],
    ]);
  }
}

/** IEEE half-precision bits of a float32, rounded to nearest even (as numpy's astype(float16)). */
export function float32ToFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);  // inf / NaN
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;  // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign;  // underflow -> zero
    mantissa |= 0x800000;  // subnormal: shift the implicit bit in, round to nearest even
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mantissa & ((1 << shift) - 1);
    let bits = mantissa >>> shift;
    if (rest > half || (rest === half && (bits & 1))) bits += 1;
    return sign | bits;
  }
  const rest = mantissa & 0x1fff;
  let bits = (e << 10) | (mantissa >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && (bits & 1))) bits += 1;  // may carry into the exponent: correct
  return sign | bits;
}


/** Replaces every NumpyArray in a response body by msgpack-numpy's map, for msgpack encoding. */
export function withMsgpackNumpyArrays(value: unknown): unknown {
  if (value instanceof NumpyArray) return value.toMsgpackNumpy();
  if (Array.isArray(value)) return value.map(withMsgpackNumpyArrays);
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = withMsgpackNumpyArrays(v);
    return out;
  }
  return value;
}
