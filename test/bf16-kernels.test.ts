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
