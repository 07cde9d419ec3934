/** What the HTTP benchmarks share: starting the sie-server CLI, and an autocannon run with latency percentiles. */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
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

/**
 * One client in a closed loop over a keep-alive connection, timed with performance.now(): the
 * sub-millisecond latencies autocannon rounds to whole milliseconds. The body is read to its end.
 */
export async function closedLoop(url: string, body: unknown, seconds: number): Promise<LoadResult> {
  const payload = Buffer.from(JSON.stringify(body));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const post = () => new Promise<number>((resolve, reject) => {
    const request = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': payload.length } }, (response) => {
      response.on('data', () => {});
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(payload);
  });
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  try {
    while (performance.now() < end) {
      const started = performance.now();
      const status = await post();
      latencies.push(performance.now() - started);
      if (status !== 200) errors++;
    }
  } finally {
    agent.destroy();
  }
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { rps: latencies.length / seconds, p50: at(50), p975: at(97.5), p99: at(99), errors, total: latencies.length };
}
