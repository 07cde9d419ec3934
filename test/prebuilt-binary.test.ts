// The prebuildify output (npm run prebuild) loads and computes, and depends on nothing beyond
// the C library: libstdc++ and libgcc are linked in, so no compiler or C++ runtime is needed.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import t from 'tap';
import type { NativeAddon } from '../lib/bindings/native-addon.js';
import { repoRoot } from './helpers/fixtures.js';

const dir = path.join(repoRoot, 'prebuilds', 'linux-x64');
const binaries = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.node')) : [];

t.test('the linux-x64 prebuilt binary', { skip: binaries.length === 0 ? 'no prebuilds/linux-x64 (run npm run prebuild)' : false }, async (t) => {
  const binary = path.join(dir, binaries[0]);
  const needed = execFileSync('ldd', [binary], { encoding: 'utf8' });
  t.notMatch(needed, /libstdc\+\+|libgcc_s|libopenblas|libdnnl|libgomp|not found/, 'only C library dependencies');
  const addon = createRequire(import.meta.url)(binary) as NativeAddon;
  const y = addon.kernels.gemm(Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 7, 8), null, 2, 2, 2, false, 2);
  t.same(Array.from(y), [17, 23, 39, 53]);
});
