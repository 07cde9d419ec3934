/**
 * Decoding SIE's msgpack: arrays arrive in msgpack-numpy's form (a map with binary keys nd, type,
 * kind, shape, data). They become typed arrays: 1-D as one array (float16 widened to
 * Float32Array), 2-D as an array of row arrays, as SIE's TypeScript SDK returns them.
 */
import { decode } from '@msgpack/msgpack';
import { float16BitsToNumber } from './float16.js';

export type NumericArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

interface NumpyMap {
  nd: true;
  type: string;
  shape: number[];
  data: Uint8Array;
}

function isNumpyMap(value: unknown): value is NumpyMap {
  const map = value as Partial<NumpyMap> | null;
  return typeof map === 'object' && map !== null && map.nd === true && typeof map.type === 'string' && Array.isArray(map.shape) && map.data instanceof Uint8Array;
}


/** One row of `count` elements starting at byte `offset` (copied: msgpack data is unaligned). */
function typedArray(type: string, data: Uint8Array, offset: number, count: number): NumericArray {
  const code = type.slice(1);
  const width = Number(code.slice(1));
  const bytes = data.slice(offset, offset + count * width).buffer;
  switch (code) {
    case 'f4': return new Float32Array(bytes);
    case 'f8': return new Float64Array(bytes);
    case 'f2': return Float32Array.from(new Uint16Array(bytes), float16BitsToNumber);
    case 'i4': return new Int32Array(bytes);
    case 'i2': return new Int16Array(bytes);
    case 'i1': return new Int8Array(bytes);
    case 'u1': return new Uint8Array(bytes);
    default: throw new Error(`unsupported numpy dtype '${type}'`);
  }
}

function fromNumpy(map: NumpyMap): NumericArray | NumericArray[] {
  const width = Number(map.type.slice(2));
  if (map.shape.length === 2) {
    const [rows, cols] = map.shape;
    return Array.from({ length: rows }, (_, r) => typedArray(map.type, map.data, r * cols * width, cols));
  }
  const count = map.shape.reduce((a, b) => a * b, 1);
  return typedArray(map.type, map.data, 0, count);
}

function convert(value: unknown): unknown {
  if (isNumpyMap(value)) return fromNumpy(value);
  if (Array.isArray(value)) return value.map(convert);
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v)]));
  }
  return value;
}

export function decodeSieMsgpack(bytes: Uint8Array): unknown {
  const keyOf = (key: unknown): string | number => (key instanceof Uint8Array ? new TextDecoder().decode(key) : typeof key === 'number' ? key : String(key));
  return convert(decode(bytes, { mapKeyConverter: keyOf }));
}
