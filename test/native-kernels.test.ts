import t from 'tap';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { maxAbsDiff, randomFloats } from './helpers/fixtures.js';

const kernels = nativeAddon().kernels;

t.test(`packed GEMM (${kernels.gemmKernel}) matches the reference on random and edge shapes`, async (t) => {
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1], [1, 384, 384], [13, 50, 7], [12, 32, 64], [11, 33, 65], [25, 31, 1], [64, 1536, 384], [100, 384, 1536], [257, 96, 32], [3, 1000, 17],
  ];
  let seed = 1;
  for (const [m, n, k] of shapes) {
    const x = randomFloats(m * k, seed++);
    const w = randomFloats(n * k, seed++);
    const bias = randomFloats(n, seed++);
    const reference = kernels.gemm(x, w, bias, m, n, k, true);
    for (const threads of [1, 2, 3]) {
      const got = kernels.gemm(x, w, bias, m, n, k, false, threads);
      t.ok(maxAbsDiff(got, reference) <= 1e-5 * Math.sqrt(k) * 4, `m=${m} n=${n} k=${k} threads=${threads} max|diff|=${maxAbsDiff(got, reference).toExponential(2)}`);
    }
    const noBias = kernels.gemm(x, w, null, m, n, k, false, 2);
    const noBiasRef = kernels.gemm(x, w, null, m, n, k, true);
    t.ok(maxAbsDiff(noBias, noBiasRef) <= 1e-5 * Math.sqrt(k) * 4, `m=${m} n=${n} k=${k} without bias`);
  }
});

t.test('GEMM with the fused GELU epilogue matches reference GEMM then reference GELU', async (t) => {
  for (const [m, n, k] of [[1, 1, 1], [13, 50, 7], [40, 1536, 384], [5, 33, 64]] as Array<[number, number, number]>) {
    const x = randomFloats(m * k, m + n), w = randomFloats(n * k, n + k), bias = randomFloats(n, k);
    const got = kernels.gemm(x, w, bias, m, n, k, false, 2, true);
    const want = kernels.gemm(x, w, bias, m, n, k, true, 1, true);
    t.ok(maxAbsDiff(got, want) <= 1e-5 * Math.sqrt(k) * 4, `m=${m} n=${n} k=${k}`);
  }
});

t.test('GEMM agrees with a hand-computed product', async (t) => {
  // [1 2; 3 4] · [5 6; 7 8]ᵀ + [1, -1] = [1*5+2*6+1, 1*7+2*8-1; 3*5+4*6+1, 3*7+4*8-1]
  const y = kernels.gemm(Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 7, 8), Float32Array.of(1, -1), 2, 2, 2, false, 2);
  t.same(Array.from(y), [18, 22, 40, 52]);
});

t.test('vectorised GELU (erf) matches the double-precision reference', async (t) => {
  const x = randomFloats(10007, 42).map((v) => v * 12);
  x.set([0, -0, 1e-8, -1e-8, 6, -6, 20, -20, 100, -100], 0);
  t.ok(maxAbsDiff(kernels.gelu(x, false), kernels.gelu(x, true)) <= 2e-6, 'max abs error within 2e-6');
  t.same(Array.from(kernels.gelu(Float32Array.of(), false)), []);
});

t.test('vectorised sigmoid gate (SiLU, quick_gelu) matches the double-precision reference', async (t) => {
  const x = randomFloats(10007, 43).map((v) => v * 30);
  x.set([0, -0, 1e-8, -1e-8, 6, -6, 60, -60, 200, -200], 0);
  for (const alpha of [1, 1.702]) {
    const fast = kernels.sigmoidGate(x, alpha, false), reference = kernels.sigmoidGate(x, alpha, true);
    // relative to max(1, |x|): the gate is about |x| wide where it is not saturated
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(fast[i] - reference[i]) / Math.max(1, Math.abs(x[i])));
    t.ok(worst <= 1e-6, `alpha ${alpha}: max error ${worst.toExponential(2)} relative to max(1, |x|)`);
    t.ok(fast.every(Number.isFinite), 'finite everywhere, saturated ends included');
  }
  // by hand: sigmoid(0) = 1/2, so 2 * sigmoid(2) = 2 / (1 + e^-2)
  t.ok(Math.abs(kernels.sigmoidGate(Float32Array.of(2), 1, false)[0] - 2 / (1 + Math.exp(-2))) < 1e-6, 'SiLU(2) by hand');
});

t.test('vectorised softmax matches the reference, including long and one-wide rows', async (t) => {
  for (const [rows, cols] of [[1, 1], [3, 5], [7, 16], [4, 17], [2, 512], [1, 1000]]) {
    const x = randomFloats(rows * cols, rows * 131 + cols).map((v) => v * 30);
    const got = kernels.softmax(x, rows, cols, false);
    t.ok(maxAbsDiff(got, kernels.softmax(x, rows, cols, true)) <= 1e-6, `${rows}x${cols}`);
    for (let r = 0; r < rows; r++) {
      const sum = got.subarray(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0);
      t.ok(Math.abs(sum - 1) < 1e-5, `row ${r} of ${rows}x${cols} sums to 1`);
    }
  }
});

// Below FLT_MIN (e^-87.33) a value would be a denormal, and every denormal result costs the CPU a
// microcode assist (on x86, 23x the time of a whole vector of e^x): the kernels return exact zeros
// there instead. A row whose scores spread wider than 87 has such entries.
const isDenormal = (v: number) => v !== 0 && Math.abs(v) < 1.1754943508222875e-38;

t.test('softmax rows spread wider than e^-87 give zeros, not denormals, and still match the reference', async (t) => {
  // Row 0 by hand: [0, -90, -100, -200, 5] -> e^(x - 5) / sum; only e^0 and e^-5 are above FLT_MIN.
  const row = Float32Array.of(0, -90, -100, -200, 5);
  const got = kernels.softmax(row, 1, 5, false);
  const sum = 1 + Math.exp(-5);
  t.ok(Math.abs(got[0] - Math.exp(-5) / sum) < 1e-7 && Math.abs(got[4] - 1 / sum) < 1e-7, 'the two live entries by hand');
  t.same(Array.from(got.subarray(1, 4)), [0, 0, 0], 'entries below e^-87 relative to the max are exact zeros');
  // Random rows with a spread of about 200, long enough to take the vector path.
  for (const [rows, cols] of [[3, 40], [2, 256], [1, 1000]]) {
    const x = randomFloats(rows * cols, rows * 7 + cols).map((v) => v * 100);
    const fast = kernels.softmax(x, rows, cols, false);
    t.equal(fast.filter(isDenormal).length, 0, `${rows}x${cols}: no denormal probabilities`);
    t.ok(maxAbsDiff(fast, kernels.softmax(x, rows, cols, true)) <= 1e-6, `${rows}x${cols}: matches the reference`);
  }
});

t.test('residual LayerNorm matches the reference', async (t) => {
  for (const [rows, cols] of [[1, 1], [4, 17], [5, 64], [3, 384], [2, 1000], [2, 1024]]) {
    const x = randomFloats(rows * cols, cols).map((v) => v * 5 + 3);
    const residual = randomFloats(rows * cols, cols + 1);
    const gamma = randomFloats(cols, 7), beta = randomFloats(cols, 8);
    for (const res of [residual, null]) {
      const got = kernels.addLayerNorm(x, res, gamma, beta, rows, cols, 1e-12, false);
      const want = kernels.addLayerNorm(x, res, gamma, beta, rows, cols, 1e-12, true);
      t.ok(maxAbsDiff(got, want) <= 2e-5, `${rows}x${cols} residual=${res !== null}`);
    }
  }
});

// Round to nearest even on the float32 bits, as numpy-free bf16 converters do: an independent
// check of the rounding (finite values only).
function bf16Round(values: Float32Array): Float32Array {
  const out = Float32Array.from(values);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; ++i) bits[i] = ((bits[i] + 0x7fff + ((bits[i] >>> 16) & 1)) & 0xffff0000) >>> 0;
  return out;
}

t.test('residual LayerNorm with a bf16 copy: the copy is the rounding of the normalised rows, zero-padded to 32', { skip: kernels.cpuIsa.detected === 'amx' || kernels.cpuIsa.detected === 'avx512bf16' ? false : 'the fused body needs AVX512-BF16' }, async (t) => {
  for (const [rows, cols] of [[1, 1], [4, 17], [5, 64], [3, 384], [2, 100], [2, 1024]]) {
    const x = randomFloats(rows * cols, cols).map((v) => v * 5 + 3);
    const residual = randomFloats(rows * cols, cols + 1);
    const gamma = randomFloats(cols, 7), beta = randomFloats(cols, 8);
    const padded = Math.ceil(cols / 32) * 32;
    for (const res of [residual, null]) {
      const got = kernels.addLayerNorm(x, res, gamma, beta, rows, cols, 1e-12, false, true);
      const want = kernels.addLayerNorm(x, res, gamma, beta, rows, cols, 1e-12, true, true);
      const normed = got.subarray(0, rows * cols), copy = got.subarray(rows * cols);
      t.ok(maxAbsDiff(normed, want.subarray(0, rows * cols)) <= 2e-5, `${rows}x${cols} residual=${res !== null}: rows match the reference`);
      t.equal(copy.length, rows * padded);
      const rounded = bf16Round(normed);
      const expected = Float32Array.from({ length: rows * padded }, (_, i) => (i % padded < cols ? rounded[Math.floor(i / padded) * cols + (i % padded)] : 0));
      t.same(Array.from(copy), Array.from(expected), `${rows}x${cols} residual=${res !== null}: copy = bf16(rows), zeros past ${cols}`);
    }
  }
});

t.test('kernel probes refuse buffers too short for the shape', async (t) => {
  t.throws(() => kernels.gemm(new Float32Array(3), new Float32Array(4), null, 2, 2, 2, false), { code: 'INVALID_ARGUMENT' });
  t.throws(() => kernels.softmax(new Float32Array(3), 2, 2, false), { code: 'INVALID_ARGUMENT' });
});
