// One install path builds the addon once, with CMake. A binding.gyp at the root would make npm
// (and node-gyp-build) build it a second time with node-gyp, replacing build/ and the CUDA
// targets CMake put there; prebuildify goes through a cmake-js stand-in instead.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot } from './helpers/fixtures.js';

// Every source file CMakeLists.txt names, in any target (the addons, the CUDA library and tools).
const cmakeSources = (): string[] => {
  const text = readFileSync(path.join(repoRoot, 'CMakeLists.txt'), 'utf8');
  return [...new Set([...text.matchAll(/(?:native|bindings)\/[\w/]+\.(?:cpp|cu)\b/g)].map((m) => m[0]))].sort();
};

t.test('there is no binding.gyp, so npm install never runs node-gyp after CMake', async (t) => {
  t.notOk(existsSync(path.join(repoRoot, 'binding.gyp')));
  const scripts = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  t.match(scripts.install, /scripts\/install-addon\.mjs/, 'install builds through the CMake script');
  t.notMatch(scripts.install, /node-gyp-build\s/, 'node-gyp-build (which runs node-gyp rebuild) is not the install command');
  t.match(scripts.prebuild, /--node-gyp scripts\/cmake-js-for-prebuildify\.mjs/, 'prebuildify builds through cmake-js');
});

t.test('every C++ and CUDA source under native/ and bindings/ is built', async (t) => {
  const walk = (dir: string): string[] => readdirSync(path.join(repoRoot, dir), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : /\.(cpp|cu)$/.test(e.name) ? [path.join(dir, e.name)] : []));
  const sources = cmakeSources();
  t.ok(sources.length > 10, 'CMake lists the engine sources');
  t.same([...walk('native'), ...walk('bindings')].sort(), sources);
});
