// CUDA code compiles wherever nvcc exists, for the architectures CMake asks for. The self-test
// compares the kernel with its CPU twin on a GPU; without one it exits 77 and this test reports
// a skip, never a pass.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot } from './helpers/fixtures.js';

const hasNvcc = spawnSync('nvcc', ['--version'], { stdio: 'ignore' }).status === 0;
const selftest = path.join(repoRoot, 'build', 'sie_cuda_selftest');

t.test('nvcc compiled the CUDA kernels for sm_80 and sm_90', { skip: hasNvcc ? false : 'nvcc not installed' }, async (t) => {
  t.ok(existsSync(selftest), 'build/sie_cuda_selftest exists (CMake compiled cuda/ with nvcc)');
  // The embedded fatbinary names each cubin's target (what cuobjdump --list-elf reads).
  const binary = readFileSync(selftest).toString('latin1');
  t.match(binary, /sm_80/, 'has sm_80 code');
  t.match(binary, /sm_90/, 'has sm_90 code');
});

const run = hasNvcc && existsSync(selftest) ? spawnSync(selftest, { encoding: 'utf8' }) : undefined;
const noDevice = run === undefined || run.status === 77;
t.test('the CUDA kernels match their CPU twins on a GPU', { skip: noDevice ? 'no CUDA device on this machine' : false }, async (t) => {
  t.equal(run!.status, 0, run!.stdout);
  t.match(run!.stdout, /^6 passed, 0 failed$/m);
});
