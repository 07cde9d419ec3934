// The bf16 GEMM kernels (AMX tiles, AVX512-BF16 registers) against their plain twin: X and W
// rounded to bf16 the same way, then a double-precision product. Each kernel runs where the CPU
// has it and is reported as skipped elsewhere. SIE_CPU_ISA caps the ladder in a child process.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { maxAbsDiff, randomFloats, repoRoot } from './helpers/fixtures.js';

const kernels = nativeAddon().kernels;
const LADDER = ['portable', 'avx2', 'avx512', 'avx512bf16', 'amx'];
const has = (isa: string) => LADDER.indexOf(kernels.cpuIsa.detected) >= LADDER.indexOf(isa);

for (const kernel of ['amx', 'avx512bf16'] as const) {
  t.test(`bf16 GEMM (${kernel}) matches its reference twin on random and edge shapes`, { skip: has(kernel) ? false : `this CPU has no ${kernel}` }, async (t) => {
    const shapes: Array<[number, number, number]> = [
      [1, 1, 1], [1, 384, 384], [13, 50, 7], [12, 32, 64], [11, 33, 65], [31, 31, 31], [32, 32, 32], [33, 64, 33],
      [64, 1536, 384], [100, 384, 1536], [257, 96, 32], [3, 1000, 17], [70, 45, 200],
      // Whole 16- and 32-row blocks without bias go from the tiles straight to Y (attention's
      // scores); 16 rows, 48 rows and a partial last panel take both exits in one call.
      [16, 96, 64], [48, 70, 32], [256, 256, 32],
      // Over 12 rows, pairs of panels take the AVX512-BF16 6 x 64 tile and an odd last panel the
      // 12 x 32 one: 6-row tiles with a partial last, a pair whose second panel holds 1 or 18 columns.
      // Up to 48 rows (a short request) each pair goes through all its row passes before the next
      // pair (fetched meanwhile); over 48, each row pass goes through all the pairs.
      [13, 65, 40], [18, 160, 96], [31, 50, 64], [47, 200, 96], [48, 256, 64], [49, 200, 96],
    ];
    let seed = 11;
    for (const [m, n, k] of shapes) {
      const x = randomFloats(m * k, seed++), w = randomFloats(n * k, seed++), bias = randomFloats(n, seed++);
      // Both sides round to bf16 identically; only the fp32 accumulation order differs.
      const tolerance = 2e-6 * k;
      for (const gelu of [false, true]) {
        const want = kernels.gemmBf16(x, w, bias, m, n, k, 'reference', 1, gelu);
        for (const threads of [1, 2]) {
          const got = kernels.gemmBf16(x, w, bias, m, n, k, kernel, threads, gelu);
          t.ok(maxAbsDiff(got, want) <= tolerance, `m=${m} n=${n} k=${k} threads=${threads}${gelu ? ' gelu' : ''} max|diff|=${maxAbsDiff(got, want).toExponential(2)}`);
        }
      }
      const noBias = kernels.gemmBf16(x, w, null, m, n, k, kernel, 2);
      t.ok(maxAbsDiff(noBias, kernels.gemmBf16(x, w, null, m, n, k, 'reference')) <= tolerance, `m=${m} n=${n} k=${k} without bias`);
    }
  });
}

t.test('bf16x3 GEMM (AMX) matches its twin, and stays within fp32-grade error of the exact product where bf16 does not', { skip: has('amx') ? false : 'this CPU has no AMX' }, async (t) => {
  const shapes: Array<[number, number, number]> = [[1, 1, 1], [1, 384, 384], [13, 50, 7], [16, 32, 64], [17, 33, 65], [32, 32, 32], [33, 64, 33], [64, 1536, 384], [100, 384, 1536], [3, 1000, 17]];
  let seed = 71;
  for (const [m, n, k] of shapes) {
    const x = randomFloats(m * k, seed++), w = randomFloats(n * k, seed++), bias = randomFloats(n, seed++);
    // The exact product, in double from the float32 inputs (the fp32 GEMM's reference twin).
    const exact = kernels.gemm(x, w, bias, m, n, k, true, 1);
    const scale = Math.max(...Array.from(exact, Math.abs));
    for (const gelu of [false, true]) {
      const want = kernels.gemmBf16(x, w, bias, m, n, k, 'bf16x3-reference', 1, gelu);
      for (const threads of [1, 2]) {
        const got = kernels.gemmBf16(x, w, bias, m, n, k, 'bf16x3', threads, gelu);
        t.ok(maxAbsDiff(got, want) <= 2e-6 * k, `m=${m} n=${n} k=${k} threads=${threads}${gelu ? ' gelu' : ''}: twin max|diff|=${maxAbsDiff(got, want).toExponential(2)}`);
      }
    }
    // Three products of the halves: the dropped terms are below 2^-16 of each product, so the
    // error is about 1e-5 of the largest output at worst; bf16 alone is around 1e-3.
    const x3 = kernels.gemmBf16(x, w, bias, m, n, k, 'bf16x3', 2, false);
    const bf16 = kernels.gemmBf16(x, w, bias, m, n, k, 'amx', 2, false);
    t.ok(maxAbsDiff(x3, exact) <= 2e-5 * scale, `m=${m} n=${n} k=${k}: bf16x3 relative error ${(maxAbsDiff(x3, exact) / scale).toExponential(2)} (bf16: ${(maxAbsDiff(bf16, exact) / scale).toExponential(2)})`);
    if (k >= 32) t.ok(maxAbsDiff(x3, exact) * 20 < maxAbsDiff(bf16, exact), `m=${m} n=${n} k=${k}: bf16x3 is at least 20x closer than bf16`);
  }
});

t.test('bf16x3q GEMM (AMX) matches its twin, and its 4-bit weight remainders take bf16\'s error down tenfold', { skip: has('amx') ? false : 'this CPU has no AMX' }, async (t) => {
  // Shapes across the tile edges: rows around 16 and 32 (one or two X tiles), k around the
  // 32-wide bf16 and 64-wide int8 steps, columns past a 32-column panel; and CLIP's batch-1 shape.
  const shapes: Array<[number, number, number]> = [[1, 1, 1], [1, 384, 384], [13, 50, 7], [16, 32, 64], [17, 33, 65], [32, 32, 32], [33, 64, 33], [50, 768, 768], [64, 1536, 384], [100, 384, 1536], [3, 1000, 17], [40, 96, 100]];
  let seed = 171;
  for (const [m, n, k] of shapes) {
    const x = randomFloats(m * k, seed++), w = randomFloats(n * k, seed++), bias = randomFloats(n, seed++);
    const exact = kernels.gemm(x, w, bias, m, n, k, true, 1);
    const scale = Math.max(...Array.from(exact, Math.abs));
    for (const gelu of [false, true]) {
      const want = kernels.gemmBf16(x, w, bias, m, n, k, 'bf16x3q-reference', 1, gelu);
      for (const threads of [1, 2]) {
        const got = kernels.gemmBf16(x, w, bias, m, n, k, 'bf16x3q', threads, gelu);
        t.ok(maxAbsDiff(got, want) <= 2e-6 * k, `m=${m} n=${n} k=${k} threads=${threads}${gelu ? ' gelu' : ''}: twin max|diff|=${maxAbsDiff(got, want).toExponential(2)}`);
      }
    }
    // With weights in [-1, 1), a remainder is at most 2^-9 and its 4-bit code errs by at most
    // 2^-9 / 14 = 1.4e-4 of the largest weight; bf16 alone errs by up to 2^-9 = 2e-3.
    const q = kernels.gemmBf16(x, w, bias, m, n, k, 'bf16x3q', 2, false);
    const bf16 = kernels.gemmBf16(x, w, bias, m, n, k, 'amx', 2, false);
    t.ok(maxAbsDiff(q, exact) <= 3e-4 * scale, `m=${m} n=${n} k=${k}: bf16x3q relative error ${(maxAbsDiff(q, exact) / scale).toExponential(2)} (bf16: ${(maxAbsDiff(bf16, exact) / scale).toExponential(2)})`);
    if (k >= 32) t.ok(maxAbsDiff(q, exact) * 8 < maxAbsDiff(bf16, exact), `m=${m} n=${n} k=${k}: bf16x3q is at least 8x closer than bf16`);
  }
  // Rows of zeros (a padded batch) and a zero weight row give exact zeros plus bias, not NaN.
  const zeros = kernels.gemmBf16(new Float32Array(3 * 40), randomFloats(5 * 40, 9), new Float32Array([1, 2, 3, 4, 5]), 3, 5, 40, 'bf16x3q', 1, false);
  t.same(Array.from(zeros), [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
});

for (const kernel of ['amx', 'avx512bf16'] as const) {
  t.test(`attention's bf16 GEMM (${kernel}): keys and values packed from strided rows match the twin`, { skip: has(kernel) ? false : `this CPU has no ${kernel}` }, async (t) => {
    // Q·Kᵀ (n keys of k = head-dim values) and P·V (k tokens of n = head-dim values), with rows
    // `ld` apart as in the fused qkv buffer; lengths that are and are not multiples of 32.
    const shapes: Array<[number, number, number]> = [[256, 256, 32], [7, 13, 32], [40, 70, 64], [16, 33, 100], [1, 1, 1], [100, 100, 32]];
    let seed = 500;
    for (const [m, n, k] of shapes) {
      const x = randomFloats(m * k, seed++);
      // 'nk': w is n rows of k; the reference takes the same [n][k] matrix.
      const ld = k + 9;
      const strided = randomFloats(n * ld, seed++);
      const w = Float32Array.from({ length: n * k }, (_, i) => strided[Math.floor(i / k) * ld + (i % k)]);
      const want = kernels.gemmBf16(x, w, null, m, n, k, 'reference');
      const got = kernels.gemmBf16Panels(x, strided, m, n, k, 'nk', kernel, ld);
      t.ok(maxAbsDiff(got, want) <= 2e-6 * k, `keys: m=${m} n=${n} k=${k} max|diff|=${maxAbsDiff(got, want).toExponential(2)}`);
      // 'kn': v is k rows of n (row stride ldv); the product uses vᵀ, i.e. the [n][k] matrix wt.
      const ldv = n + 5;
      const v = randomFloats(k * ldv, seed++);
      const wt = Float32Array.from({ length: n * k }, (_, i) => v[(i % k) * ldv + Math.floor(i / k)]);
      const wantV = kernels.gemmBf16(x, wt, null, m, n, k, 'reference');
      const gotV = kernels.gemmBf16Panels(x, v, m, n, k, 'kn', kernel, ldv);
      t.ok(maxAbsDiff(gotV, wantV) <= 2e-6 * k, `values: m=${m} n=${n} k=${k} max|diff|=${maxAbsDiff(gotV, wantV).toExponential(2)}`);
    }
  });
}

// Where column c's k index kk sits in the packed panels, by hand from each order's definition
// (bf16_gemm.h): 'rows', one 32-column row per k pair; 'amx-tiles', two 16-column 1 KiB blocks per
// 32-wide k step.
function panelIndex(order: 'rows' | 'amx-tiles', k: number, c: number, kk: number): number {
  const kp = Math.ceil(k / 32) * 32, panel = Math.floor(c / 32), col = c % 32, pair = kk >> 1;
  const inPanel = order === 'rows'
    ? (pair * 32 + col) * 2
    : (pair >> 4) * 1024 + (col >> 4) * 512 + (pair & 15) * 32 + (col & 15) * 2;
  return panel * kp * 32 + inPanel + (kk & 1);
}
// float32 -> bf16 bits, rounded to nearest even (the values here are finite).
function bf16Bits(v: number): number {
  const bits = new Uint32Array(Float32Array.of(v).buffer)[0];
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

t.test("attention's packing of bf16 keys and values: the AVX-512 packer, its scalar twin and the fp32 packer write the same panels, in both orders", { skip: has('avx512bf16') ? false : 'this CPU has no AVX-512' }, async (t) => {
  // [n, k]: keys are n rows of k (head-dim) values, values k rows of n; lengths on and off 16/32
  // boundaries, rows `ld` apart, output buffers filled with garbage so padding must be written.
  const shapes: Array<[number, number]> = [[16, 32], [32, 64], [7, 32], [33, 64], [100, 32], [1, 1], [17, 45], [64, 100]];
  let seed = 900;
  for (const order of ['rows', 'amx-tiles'] as const) {
    for (const [n, k] of shapes) {
      for (const layout of ['nk', 'kn'] as const) {
        const cols = layout === 'nk' ? k : n, rows = layout === 'nk' ? n : k;
        const ld = cols + 7;
        const w = randomFloats(rows * ld, seed++);
        const vector = kernels.packBf16FromBf16(w, n, k, ld, layout, 'avx512', order);
        const twin = kernels.packBf16FromBf16(w, n, k, ld, layout, 'reference', order);
        const fp32 = kernels.packBf16FromBf16(w, n, k, ld, layout, 'fp32', order);
        const differs = (a: Uint16Array, b: Uint16Array) => a.reduce((count, v, i) => count + (v === b[i] ? 0 : 1), 0);
        t.equal(vector.length, twin.length);
        t.equal(differs(vector, twin), 0, `${order} ${layout} n=${n} k=${k}: AVX-512 and scalar panels are identical`);
        t.equal(differs(twin, fp32), 0, `${order} ${layout} n=${n} k=${k}: scalar and fp32-packer panels are identical`);
        // Every value where the order's definition puts it.
        let misplaced = 0;
        for (let c = 0; c < n; c++) {
          for (let kk = 0; kk < k; kk++) {
            const value = layout === 'nk' ? w[c * ld + kk] : w[kk * ld + c];
            if (twin[panelIndex(order, k, c, kk)] !== bf16Bits(value)) misplaced++;
          }
        }
        t.equal(misplaced, 0, `${order} ${layout} n=${n} k=${k}: each value sits where the ${order} order puts it`);
      }
    }
  }
  // An order the kernels do not read is refused, not packed some way.
  t.throws(() => kernels.packBf16FromBf16(randomFloats(32, 1), 1, 32, 32, 'nk', 'reference', 'columns' as 'rows'), /order must be 'rows' or 'amx-tiles'/);
});

t.test('softmax to bf16 gives zeros, not denormals, for scores more than 87 below the row max', { skip: has('avx512bf16') ? false : 'this CPU has no AVX512-BF16' }, async (t) => {
  // bf16 has fp32's exponent range, so e^-95 would be a bf16 denormal too; it is 0 instead.
  const got = kernels.softmaxBf16(Float32Array.of(0, -95, -100, -120, 3), 1, 5, false);
  t.same(Array.from(got.subarray(1, 4)), [0, 0, 0], 'entries below e^-87 relative to the max are exact zeros');
  t.ok(got[4] > 0.9 && got[0] > 0.04, 'the live entries stay');
  const x = randomFloats(2 * 256, 99).map((v) => v * 100);
  t.equal(kernels.softmaxBf16(x, 2, 256, false).filter((v) => v !== 0 && Math.abs(v) < 1.1754943508222875e-38).length, 0, 'no denormal probabilities');
});

t.test('softmax to bf16 probabilities matches its twin within one bf16 rounding, padding zeroed', { skip: has('avx512bf16') ? false : 'this CPU has no AVX512-BF16' }, async (t) => {
  for (const [rows, cols] of [[1, 1], [3, 5], [4, 17], [2, 256], [2, 100], [1, 1000]]) {
    const x = randomFloats(rows * cols, rows * 17 + cols).map((v) => v * 20);
    const padded = Math.ceil(cols / 32) * 32;
    const got = kernels.softmaxBf16(x, rows, cols, false);
    const want = kernels.softmaxBf16(x, rows, cols, true);
    t.equal(got.length, rows * padded);
    let worst = 0, padding = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < padded; c++) {
        const i = r * padded + c;
        if (c >= cols) padding += got[i] === 0 ? 0 : 1;
        // One bf16 step at this magnitude: 2^(exponent - 7).
        else worst = Math.max(worst, Math.abs(got[i] - want[i]) / (want[i] === 0 ? 1e-30 : 2 ** (Math.floor(Math.log2(Math.abs(want[i]))) - 7)));
      }
    }
    t.ok(worst <= 1, `${rows}x${cols}: at most one bf16 step apart (${worst.toFixed(2)})`);
    t.equal(padding, 0, `${rows}x${cols}: padding is zero`);
  }
});

t.test('the bf16 reference twin agrees with a hand-computed product of bf16-exact values', async (t) => {
  // 1.5, 2.25, -3 and 0.125 are exact in bf16: [1.5 2.25] · [[-3 0.125]; [2 4]]ᵀ + [1, 0]
  const y = kernels.gemmBf16(Float32Array.of(1.5, 2.25), Float32Array.of(-3, 0.125, 2, 4), Float32Array.of(1, 0), 1, 2, 2, 'reference');
  t.same(Array.from(y), [1.5 * -3 + 2.25 * 0.125 + 1, 1.5 * 2 + 2.25 * 4]);
  if (has('avx512bf16')) t.same(Array.from(kernels.gemmBf16(Float32Array.of(1.5, 2.25), Float32Array.of(-3, 0.125, 2, 4), Float32Array.of(1, 0), 1, 2, 2, 'avx512bf16')), Array.from(y));
});

t.test('a kernel the CPU lacks is refused, not run', { skip: has('amx') ? 'this CPU has every kernel' : false }, async (t) => {
  t.throws(() => kernels.gemmBf16(Float32Array.of(1), Float32Array.of(1), null, 1, 1, 1, 'amx'), { code: 'DEVICE_UNAVAILABLE' });
});

t.test('SIE_CPU_ISA caps the kernels and the dtypes a process uses', async (t) => {
  const probe = (isa: string) => JSON.parse(execFileSync(process.execPath, ['-e', `
    const { nativeAddon } = await import(${JSON.stringify(path.join(repoRoot, 'dist', 'lib', 'bindings', 'native-addon.js'))});
    const addon = nativeAddon();
    console.log(JSON.stringify({ isa: addon.kernels.cpuIsa, gemm: addon.kernels.gemmKernel, dtypes: addon.openBackend({ threads: 1 }).dtypes }));
  `, '--input-type=module'], { encoding: 'utf8', env: { ...process.env, SIE_CPU_ISA: isa } })) as { isa: { detected: string; active: string }; gemm: string; dtypes: string[] };
  const portable = probe('portable');
  t.same(portable, { isa: { detected: kernels.cpuIsa.detected, active: 'portable' }, gemm: 'portable', dtypes: ['fp32'] });
  if (has('avx512bf16')) {
    const capped = probe('avx512');
    t.same(capped.dtypes, ['fp32'], 'no bf16 below avx512bf16');
    t.equal(capped.gemm, 'avx512');
    t.same(probe('avx512bf16').dtypes, ['fp32', 'bf16']);
  }
  t.equal(probe('amx-turbo').isa.active, kernels.cpuIsa.detected, 'an unknown name changes nothing');
});

t.test('short bf16 attention: the register kernel equals the general route bit for bit, and both the double twin', { skip: has('avx512bf16') ? false : 'this CPU has no AVX512-BF16' }, async (t) => {
  // Every length the kernel takes (1-32: one or two blocks of 16 keys; odd ones end on a half key
  // pair), both head dims, all rows and a one-row range (the last layer's picked rows), Q/K/V
  // inside fused rows as the encoder lays them out (ld = 3 x hidden + slack).
  let seed = 900;
  for (const headDim of [32, 64]) {
    for (let length = 1; length <= 32; ++length) {
      const ld = 3 * headDim + 7, kOffset = headDim + 3, vOffset = 2 * headDim + 5;
      // Q and K in [-0.6, 0.6): scores of about one unit, so the softmax is spread over the keys
      // rather than one-hot; V in [-2.5, 2.5).
      const qkv = randomFloats(length * ld, seed++).map((x, i) => (i % ld >= vOffset ? 2.5 : 0.6) * x);
      for (const [rowBegin, rowEnd] of [[0, length], [length - 1, length], [Math.floor(length / 3), length]] as const) {
        const fast = kernels.attentionShortBf16(qkv, length, headDim, ld, kOffset, vOffset, rowBegin, rowEnd, 'short');
        const general = kernels.attentionShortBf16(qkv, length, headDim, ld, kOffset, vOffset, rowBegin, rowEnd, 'general');
        const twin = kernels.attentionShortBf16(qkv, length, headDim, ld, kOffset, vOffset, rowBegin, rowEnd, 'reference');
        const label = `d=${headDim} length=${length} rows ${rowBegin}-${rowEnd}`;
        t.equal(maxAbsDiff(fast, general), 0, `${label}: same as the general route`);
        // Against the double twin: P differs from it by at most one bf16 step where rounding
        // breaks differently, and the context by one more rounding: under 1 % of the largest
        // value of V (2.5), where a wrong key or mask errs by about 1/length of it (over 6 %).
        t.ok(maxAbsDiff(fast, twin) <= 0.025, `${label}: max|diff| to the twin ${maxAbsDiff(fast, twin).toExponential(2)}`);
      }
    }
  }
});
