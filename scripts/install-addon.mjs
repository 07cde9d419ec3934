#!/usr/bin/env node
// npm's install step: use the prebuilt binary (prebuilds/) or an existing local build when one
// loads on this machine, and otherwise build the addon once, with CMake (cmake-js). There is no
// binding.gyp, so npm never adds a second, node-gyp build of its own.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const fromSource = process.env.npm_config_build_from_source === 'true';

function loadsAlready() {
  try {
    require('node-gyp-build')(root);
    return true;
  } catch {
    return false;
  }
}

if (!fromSource && loadsAlready()) process.exit(0);
let cmakeJs;
try {
  cmakeJs = require.resolve('cmake-js/bin/cmake-js');
} catch {
  console.error('sie-server: no prebuilt binary for this platform and cmake-js is not installed; install cmake, a C++17 compiler and cmake-js, then run npm rebuild sie-server');
  process.exit(1);
}
const build = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], { cwd: root, stdio: 'inherit' });
process.exit(build.status ?? 1);
