// `sie-server serve` as a user runs it: a models directory, a hub-style id, SIGTERM to stop.
import { spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { referenceModel, repoRoot, tempDir } from './helpers/fixtures.js';

async function waitForReady(baseUrl: string, deadlineMs: number): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    try {
      if ((await fetch(`${baseUrl}/readyz`)).status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

t.test('serve -m ORG/NAME --models-dir DIR answers embeddings and exits 0 on SIGTERM', async (t) => {
  const modelsDir = tempDir(t);
  cpSync(referenceModel('tiny-dense-mean'), path.join(modelsDir, 'sentence-transformers', 'all-MiniLM-L6-v2'), { recursive: true });
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'lib', 'cli', 'sie-server.js'), 'serve', '-m', 'sentence-transformers/all-MiniLM-L6-v2', '--models-dir', modelsDir, '--port', String(port), '--host', '127.0.0.1', '--threads', '1'], { env: { ...process.env, HF_HUB_OFFLINE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stdout.on('data', (d) => (logs += d));
  child.stderr.on('data', (d) => (logs += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => { child.kill('SIGKILL'); });
  const baseUrl = `http://127.0.0.1:${port}`;
  t.ok(await waitForReady(baseUrl, 20000), 'ready');
  const response = await fetch(`${baseUrl}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sentence-transformers/all-MiniLM-L6-v2', input: 'hello' }) });
  t.equal(response.status, 200);
  const body = await response.json() as { data: Array<{ embedding: number[] }> };
  t.equal(body.data[0].embedding.length, 64);
  // SIGTERM while a long request is in flight: it completes, then the process exits 0.
  const long = fetch(`${baseUrl}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sentence-transformers/all-MiniLM-L6-v2', input: Array(400).fill('drain me '.repeat(60)) }) });
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGTERM');
  const drained = await long;
  t.equal(drained.status, 200, 'the in-flight request was drained');
  t.equal(((await drained.json()) as { data: unknown[] }).data.length, 400);
  t.equal(await exited, 0, 'exit code 0 after SIGTERM');
  t.match(logs, /shutting down/);
});

t.test('bad flags exit 2 with usage', async (t) => {
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'lib', 'cli', 'sie-server.js'), 'serve', '--port', 'not-a-port'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.equal(code, 2);
  t.match(stderr, /port must be an integer/);
  t.match(stderr, /usage: sie-server serve/);
});
