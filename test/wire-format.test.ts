// The native float32 JSON formatter (bindings/wire_format.cpp) against JavaScript's own number
// parsing and an independent search for the shortest decimal that reads back to each float32.
import t from 'tap';
import { nativeAddon } from '../lib/bindings/native-addon.js';

const { wire } = nativeAddon();

/** Significant digits of the shortest toPrecision(p) that rounds back to the same float32. */
function shortestDigits(value: number): number {
  for (let p = 1; p <= 9; p++) if (Math.fround(Number(value.toPrecision(p))) === value) return p;
  throw new Error(`no float32 round trip for ${value}`);
}

function significantDigits(text: string): number {
  const mantissa = text.replace(/^-/, '').split(/e/i)[0].replace('.', '').replace(/^0+/, '');
  return mantissa.replace(/0+$/, '').length || 1;
}

t.test('every value reads back to the identical float32, in the fewest digits', async (t) => {
  const special = [0, -0, 1, -1, 0.1, 1e-5, 3.4028234663852886e38, -3.4028234663852886e38, 1.1754943508222875e-38, 1.401298464324817e-45, -1.401298464324817e-45, 123456792, 0.00012345678, 16777216, 1 / 3];
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed;
  };
  const bits = new Uint32Array(20000).map(() => random());
  const fromBits = new Float32Array(bits.buffer).filter((v) => Number.isFinite(v));
  const embeddingLike = Float32Array.from({ length: 5000 }, () => (random() / 4294967296 - 0.5) * 0.3);
  const values = Float32Array.from([...special, ...fromBits, ...embeddingLike]);
  const [text] = wire.float32JsonArrays([values]);
  const parsed = JSON.parse(text) as number[];
  t.equal(parsed.length, values.length);
  let exact = 0, shortest = 0;
  const tokens = text.slice(1, -1).split(',');
  values.forEach((v, i) => {
    if (Object.is(Math.fround(parsed[i]), v)) exact++;
    // An integer may print all its digits when that is still the shorter text (123456792 rather
    // than 1.2345679e+08, as C++'s to_chars chooses); any other value has its fewest digits.
    const integer = /^-?\d+$/.test(tokens[i]);
    if (integer ? tokens[i].length <= v.toExponential(shortestDigits(v) - 1).length : significantDigits(tokens[i]) <= shortestDigits(v)) shortest++;
  });
  t.equal(exact, values.length, 'all values read back exactly (negative zero included)');
  t.equal(shortest, values.length, 'no value has more digits than it needs');
});

t.test('the fast printers (eight at a time where the CPU has AVX-512, and scalar) write exactly what std::to_chars, their reference twin, writes', async (t) => {
  let seed = 99;
  const random = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed;
  };
  // Random bit patterns; every exponent's smallest, largest and next significands (where the
  // rounding interval is lopsided or its ends are exact); whole numbers past 2^24 (fixed form
  // prints the exact value); powers of ten and their neighbours; embedding-like values.
  const bits: number[] = Array.from({ length: 200000 }, () => random());
  for (let field = 0; field < 255; field++) for (const fraction of [0, 1, 2, 3, 0x7fffff, 0x7ffffe, 0x400000]) bits.push(((field << 23) | fraction) >>> 0, (0x80000000 | (field << 23) | fraction) >>> 0);
  const values = [...new Float32Array(Uint32Array.from(bits).buffer)].filter(Number.isFinite);
  for (let i = 0; i < 20000; i++) values.push(16777216 + random() % 200000000, 1075000064 + (random() % 64) * 128);
  for (let e = -45; e <= 38; e++) for (const m of [1, 1.5, 9.999999]) values.push(m * 10 ** e, -m * 10 ** e);
  // Whole numbers c * 2^q whose rounding interval ends, (2c -+ 1) * 2^(q-1), are multiples of
  // ten: c = 3 or 2 (mod 5). Whether such an end belongs to the interval turns on c's parity.
  for (let q = 2; q <= 29; q++) {
    const start = 8388608 + (random() % 8000000);
    for (let c = start; c < start + 500; c++) if (c % 5 === 2 || c % 5 === 3) values.push(c * 2 ** q);
  }
  for (let i = 0; i < 50000; i++) values.push((random() / 4294967296 - 0.5) * 0.3);
  const input = Float32Array.from(values);
  const [reference] = wire.float32JsonArrays([input], 'reference');
  const referenceTokens = reference.slice(1, -1).split(',');
  for (const printer of [undefined, 'scalar'] as const) {
    const [fast] = wire.float32JsonArrays([input], printer);
    const fastTokens = fast.slice(1, -1).split(',');
    t.equal(fastTokens.length, input.length);
    const differing = fastTokens.flatMap((token, i) => (token === referenceTokens[i] ? [] : [`${referenceTokens[i]} -> ${token}`]));
    t.same(differing.slice(0, 5), [], `${printer ?? 'fastest'} printer: ${differing.length} of ${input.length} values differ`);
  }
});

t.test('non-finite values become null, as JSON.stringify writes them; empty vectors are []', async (t) => {
  const [text, empty] = wire.float32JsonArrays([Float32Array.from([NaN, Infinity, -Infinity, 2.5]), new Float32Array(0)]);
  t.equal(text, '[null,null,null,2.5]');
  t.equal(empty, '[]');
});

t.test('embedding-sized vectors are about half the bytes of JSON.stringify', async (t) => {
  let seed = 7;
  const vector = Float32Array.from({ length: 384 }, () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed / 4294967296 - 0.5) * 0.2;
  });
  const [text] = wire.float32JsonArrays([vector]);
  t.ok(text.length < 0.65 * JSON.stringify(Array.from(vector)).length, `${text.length} vs ${JSON.stringify(Array.from(vector)).length} bytes`);
});

t.test('a non-Float32Array argument is a typed error, not a crash', async (t) => {
  t.throws(() => wire.float32JsonArrays([new Float64Array(3) as unknown as Float32Array]), { code: 'INVALID_ARGUMENT' });
  t.throws(() => wire.float32JsonArrays('x' as unknown as Float32Array[]), { code: 'INVALID_ARGUMENT' });
});

t.test('float32JsonJoinInto writes the parts and arrays in order as UTF-8 into the target', async (t) => {
  const a = Float32Array.from([0.1, -2, 3.5e-7]), b = Float32Array.from([]), c = Float32Array.from([1 / 3]);
  const parts = ['{"x":[', ',', ',"é",', ']}'];
  const target = Buffer.alloc(4096, 0x7e);
  const written = wire.float32JsonJoinInto([a, b, c], parts, target);
  const expected = `{"x":[${wire.float32JsonArrays([a])[0]},[],"é",${wire.float32JsonArrays([c])[0]}]}`;
  t.equal(target.subarray(0, written).toString('utf8'), expected);
  t.equal(written, Buffer.byteLength(expected), 'multi-byte parts are counted in bytes');
  const parsed = JSON.parse(target.subarray(0, written).toString('utf8')) as { x: unknown[] };
  t.same((parsed.x[0] as number[]).map(Math.fround), Array.from(a));
  // Too small: nothing written, and the answer says how much room the call needs.
  const small = Buffer.alloc(16, 0x7e);
  const needed = wire.float32JsonJoinInto([a, b, c], parts, small);
  t.ok(needed < 0 && -needed >= written, `asks for ${-needed} bytes`);
  t.ok(small.every((byte) => byte === 0x7e), 'a target too small is left untouched');
  t.equal(wire.float32JsonJoinInto([a, b, c], parts, Buffer.alloc(-needed)), written, 'the capacity it asked for is enough');
  const empty = Buffer.alloc(64);
  t.equal(empty.subarray(0, wire.float32JsonJoinInto([], ['{}'], empty)).toString(), '{}');
  t.throws(() => wire.float32JsonJoinInto([a], ['only one'], target), { code: 'INVALID_ARGUMENT' });
  t.throws(() => wire.float32JsonJoinInto([a], ['x', 3 as unknown as string], target), { code: 'INVALID_ARGUMENT' });
  t.throws(() => wire.float32JsonJoinInto([a], ['x', 'y'], new Float32Array(64) as unknown as Uint8Array), { code: 'INVALID_ARGUMENT' });
});
