// `mise run serve -- -m MODEL --port N` starts the server (mise from the npm registry,
// @jdxcode/mise-linux-x64), and the model it names answers an embedding equal to the reference.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { cosine, readJson, referenceDir, referenceModel, repoRoot } from './helpers/fixtures.js';
import { waitForUrl } from './helpers/server-process.js';

const mise = path.join(repoRoot, 'node_modules', '.bin', 'mise');

t.test('mise run serve -- -m <model> --port <port> serves an embedding', { skip: existsSync(mise) ? false : 'mise is not installed (npm ci)' }, async (t) => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(mise, ['run', 'serve', '--', '-m', referenceModel('tiny-dense-mean'), '--port', String(port), '--host', '127.0.0.1', '--threads', '2'], {
    cwd: repoRoot,
    env: { ...process.env, MISE_TRUSTED_CONFIG_PATHS: repoRoot, MISE_YES: '1', HF_HUB_OFFLINE: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,  // its own process group: mise, npm and the server are stopped together
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  t.teardown(() => {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
  });
  const url = `http://127.0.0.1:${port}`;
  t.ok(await waitForUrl(`${url}/readyz`, 90000, child), `ready (${stderr.slice(-500)})`);
  const response = await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny-dense-mean', input: 'hello world!' }) });
  t.equal(response.status, 200);
  const body = (await response.json()) as { data: Array<{ embedding: number[] }> };
  const reference = readJson<number[][]>(path.join(referenceDir, 'outputs', 'tiny-dense-mean.dense.json'));
  t.ok(cosine(body.data[0].embedding, reference[0]) >= 0.99999, 'the reference vector of sentence 0');
});
