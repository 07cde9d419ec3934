// CUDA code compiles wherever nvcc exists; its self-test compares the kernel with its CPU twin
// on a GPU and says SKIP where there is none.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot } from './helpers/fixtures.js';

const hasNvcc = (() => {
  try {
    execFileSync('nvcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

t.test('the CUDA L2-normalisation kernel was built and its self-test passes or skips cleanly', { skip: hasNvcc ? false : 'nvcc not installed' }, async (t) => {
  const selftest = path.join(repoRoot, 'build', 'sie_cuda_selftest');
  t.ok(existsSync(selftest), 'build/sie_cuda_selftest exists (CMake compiled cuda/ with nvcc)');
  const output = execFileSync(selftest, { encoding: 'utf8' });
  t.match(output, /^SKIP: no CUDA device present|6 passed, 0 failed/m);
});
