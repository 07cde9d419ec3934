#!/usr/bin/env node
// prebuildify calls node-gyp (`rebuild --target=... --release`); this stands in for it so the
// prebuilt binary comes from the same CMake build as every other build. The result lands in
// build/Release, where prebuildify picks it up.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
if (args[0] !== 'rebuild' || args.includes('--debug')) {
  console.error(`cmake-js-for-prebuildify: only 'rebuild --release' is supported, got: ${args.join(' ')}`);
  process.exit(2);
}
const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
const build = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], { cwd: root, stdio: 'inherit' });
process.exit(build.status ?? 1);
