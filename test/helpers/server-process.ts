/** Starts `sie-server serve` as a separate process for a test, waits for /readyz, kills it after. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './fixtures.js';

/** Polls `url` until it answers 2xx (resolving with that response), the child exits, or the deadline passes. */
export async function waitForUrl(url: string, deadlineMs: number, child?: { exitCode: number | null }): Promise<Response | undefined> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    try {
      const response = await fetch(url);
      if (response.ok) return response;
    } catch {
      // not listening yet
    }
    if (child && child.exitCode !== null) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

export async function serveProcess(t: { teardown: (fn: () => void) => void }, modelsDir: string, args: string[]): Promise<string> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'lib', 'cli', 'sie-server.js'), 'serve', '--models-dir', modelsDir, '--port', String(port), '--host', '127.0.0.1', '--threads', '2', ...args], { env: { ...process.env, HF_HUB_OFFLINE: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  t.teardown(() => { child.kill('SIGKILL'); });
  const url = `http://127.0.0.1:${port}`;
  if (await waitForUrl(`${url}/readyz`, 20000, child)) return url;
  throw new Error(`sie-server did not become ready: ${stderr}`);
}
