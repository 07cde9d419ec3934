/** What the HTTP benchmarks share: starting the sie-server CLI, and an autocannon run with latency percentiles. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';
import { repoRoot } from './minilm-checkpoint.js';

export async function waitUntil(url: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (child && child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

export async function startSieServer(model: string, port: number, threads: number, extra: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'lib', 'cli', 'sie-server.js'), 'serve', '-m', model, '--port', String(port), '--host', '127.0.0.1', '--threads', String(threads), '--log-level', 'warn', ...extra], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, HF_HUB_OFFLINE: '1' } });
  try {
    await waitUntil(`http://127.0.0.1:${port}/readyz`, 60000, child);
  } catch (error) {
    child.kill();
    throw error;
  }
  return child;
}

export interface LoadResult {
  rps: number;
  p50: number;
  /** autocannon reports p97.5, not p95: a slightly stricter stand-in for p95. */
  p975: number;
  p99: number;
  errors: number;
  total: number;
}

/** POSTs `body` as JSON to `url` from `clients` connections for `seconds`. */
export async function httpLoad(url: string, body: unknown, clients: number, seconds: number): Promise<LoadResult> {
  const result = await autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), connections: clients, duration: seconds });
  return { rps: result.requests.average, p50: result.latency.p50, p975: result.latency.p97_5, p99: result.latency.p99, errors: result.errors + result.non2xx, total: result.requests.total };
}
