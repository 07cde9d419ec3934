// `sie-admin` against a running server: list, inspect, load, unload, health, errors.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { referenceDir, repoRoot } from './helpers/fixtures.js';
import { startServer } from './helpers/server.js';
import { Engine } from '../lib/engine/engine.js';
import { buildServer } from '../lib/server/app.js';

const run = promisify(execFile);
const admin = path.join(repoRoot, 'dist', 'lib', 'cli', 'sie-admin.js');

async function sieAdmin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [admin, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

t.test('models, load, model, unload and health', async (t) => {
  const engine = new Engine({ threads: 1, progress: null, modelsDir: path.join(referenceDir, 'models') });
  const app = buildServer({ engine, apiKey: 'k' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(async () => {
    await app.close();
    engine.close();
  });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const base = ['--url', url, '--api-key', 'k'];
  t.match(await sieAdmin([...base, 'load', 'tiny-splade', '--pin']), { code: 0, stdout: /loaded tiny-splade \(pinned\)/ });
  t.match(await sieAdmin([...base, 'models']), { code: 0, stdout: /tiny-splade\tloaded\tsparse\tsparse:30522/ });
  const info = await sieAdmin([...base, 'model', 'tiny-splade']);
  t.match(JSON.parse(info.stdout), { name: 'tiny-splade', state: 'loaded', outputs: ['sparse'] });
  t.ok(engine.status('tiny-splade')?.pinned, 'pinned on the server');
  t.match(await sieAdmin([...base, 'unload', 'tiny-splade']), { code: 0, stdout: /unloaded/ });
  t.match(await sieAdmin([...base, 'health']), { code: 0, stdout: /healthy: true\nready: true/ });
  t.match(await sieAdmin(['--url', url, 'load', 'tiny-splade']), { code: 1, stderr: /UNAUTHORIZED/ });
  t.match(await sieAdmin([...base, 'model', 'nope']), { code: 1, stderr: /MODEL_NOT_FOUND/ });
  t.match(await sieAdmin([...base, 'load']), { code: 2, stderr: /needs a model name/ });
});

t.test('health fails with exit 1 when the server is unreachable', async (t) => {
  const { baseUrl, app } = await startServer(t, []);
  await app.close();
  t.match(await sieAdmin(['--url', baseUrl, 'health']), { code: 1, stdout: /healthy: false/ });
});
