// Every fp32 kernel path this machine can run passes the same kernel and parity tests: the
// suites run again in child processes with SIE_CPU_ISA capping the ladder (avx2, portable),
// so a CPU without AVX-512 gets the same numbers as one with it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { repoRoot } from './helpers/fixtures.js';

const LADDER = ['portable', 'avx2', 'avx512', 'avx512bf16', 'amx'];
const detected = nativeAddon().kernels.cpuIsa.detected;

for (const isa of ['avx2', 'portable']) {
  const available = LADDER.indexOf(detected) >= LADDER.indexOf(isa);
  t.test(`with SIE_CPU_ISA=${isa}: kernels match their twins and models match the float64 references`, { skip: available ? false : `this CPU has no ${isa}` }, async (t) => {
    for (const suite of ['native-kernels.test.js', 'parity-reference.test.js', 'parity-heads.test.js']) {
      const run = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'test', suite)], { encoding: 'utf8', env: { ...process.env, SIE_CPU_ISA: isa }, timeout: 240000 });
      t.equal(run.status, 0, `${suite} passes on ${isa}${run.status === 0 ? '' : `:\n${run.stdout.split('\n').filter((l) => /not ok/.test(l)).slice(0, 5).join('\n')}`}`);
      t.notMatch(run.stdout, /^\s*not ok/m, `${suite}: no failed assertion`);
      if (suite === 'native-kernels.test.js') t.match(run.stdout, new RegExp(`packed GEMM \\(${isa}\\)`), `the ${isa} kernel ran`);
    }
  });
}
