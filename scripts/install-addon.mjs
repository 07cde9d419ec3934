#!/usr/bin/env node
// npm's install step: use the prebuilt binary (prebuilds/) or an existing local build when one
// loads on this machine, and otherwise build the addon once, with CMake (cmake-js). There is no
// binding.gyp, so npm never adds a second, node-gyp build of its own.
// With SIE_CUDA=1 (or `npm install --sie-cuda`) it also makes sure the CUDA build is there: the
// CUDA prebuilt (prebuilds/linux-x64-cuda) if it loads, else a CMake build with nvcc.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const fromSource = process.env.npm_config_build_from_source === 'true';
const wantCuda = process.env.SIE_CUDA === '1' || process.env.npm_config_sie_cuda === 'true';
const cudaBuilds = [
  path.join(root, 'prebuilds', `${process.platform}-${process.arch}-cuda`, 'sie-server.node'),
  path.join(root, 'build', 'Cuda', 'sie_native_cuda.node'),
];

function loads(load) {
  try {
    load();
    return true;
  } catch {
    return false;
  }
}
const cpuReady = () => loads(() => require('node-gyp-build')(root));
const cudaReady = () => cudaBuilds.some((file) => existsSync(file) && loads(() => require(file)));

if (!fromSource && cpuReady() && (!wantCuda || cudaReady())) process.exit(0);
let cmakeJs;
try {
  cmakeJs = require.resolve('cmake-js/bin/cmake-js');
} catch {
  console.error('sie-server: no prebuilt binary for this platform and cmake-js is not installed; install cmake, a C++17 compiler and cmake-js, then run npm rebuild sie-server');
  process.exit(1);
}
// One CMake build makes both addons; the CUDA one only where nvcc is found.
const build = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
if (wantCuda && !cudaReady()) {
  console.error('sie-server: SIE_CUDA=1 asked for the CUDA build, but CMake found no CUDA compiler (nvcc, CUDA 13); install the CUDA toolkit and run npm rebuild sie-server');
  process.exit(1);
}
