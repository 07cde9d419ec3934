import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { repoRoot } from './helpers/fixtures.js';

const cmakeSources = (): string[] => {
  const text = readFileSync(path.join(repoRoot, 'CMakeLists.txt'), 'utf8');
  const lists = [...text.matchAll(/set\((SIE_NATIVE_SOURCES|SIE_BINDING_SOURCES)([^)]*)\)/g)];
  return lists.flatMap((m) => m[2].split(/\s+/).filter(Boolean)).sort();
};

const gypSources = (): string[] => {
  const gyp = JSON.parse(readFileSync(path.join(repoRoot, 'binding.gyp'), 'utf8')) as { targets: Array<{ sources: string[] }> };
  return [...gyp.targets[0].sources].sort();
};

t.test('binding.gyp builds exactly the sources CMakeLists.txt builds', async (t) => {
  const cmake = cmakeSources();
  t.ok(cmake.length > 10, 'CMake lists the engine sources');
  t.same(gypSources(), cmake);
});

t.test('every C++ source under native/ and bindings/ is built', async (t) => {
  const { readdirSync } = await import('node:fs');
  const walk = (dir: string): string[] => readdirSync(path.join(repoRoot, dir), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.cpp') ? [path.join(dir, e.name)] : []));
  t.same([...walk('native'), ...walk('bindings')].sort(), cmakeSources());
});
