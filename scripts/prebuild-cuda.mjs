#!/usr/bin/env node
// Makes the CUDA-enabled prebuilt, next to the CPU one that prebuildify makes: the same CMake
// build (nvcc for sm_80 and sm_90, the CUDA runtime linked statically, libcuda loaded at run
// time), stripped, as prebuilds/linux-x64-cuda/sie-server.node. lib/bindings/native-addon.ts
// loads it for --device cuda / auto; the CPU prebuilt stays the default.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
const build = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const built = path.join(root, 'build', 'Cuda', 'sie_native_cuda.node');
if (!existsSync(built)) {
  console.error('prebuild-cuda: CMake built no CUDA addon (is nvcc, CUDA 13, on the PATH?)');
  process.exit(1);
}
const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}-cuda`);
mkdirSync(dir, { recursive: true });
const target = path.join(dir, 'sie-server.node');
copyFileSync(built, target);
const strip = spawnSync('strip', ['--strip-all', target], { stdio: 'inherit' });
process.exit(strip.status ?? 1);
