/** What the HTTP benchmarks share: starting the sie-server CLI, and an autocannon run with latency percentiles. */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
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
  // Closed loops: throughput is clients / mean latency (Little's law). requests.average, a mean of
  // one-second buckets, swung by a quarter at 64 clients, whose answers come in half-second bursts.
  return { rps: clients / (result.latency.mean / 1000), p50: result.latency.p50, p975: result.latency.p97_5, p99: result.latency.p99, errors: result.errors + result.non2xx, total: result.requests.total };
}

/**
 * One client in a closed loop over one keep-alive connection, timed with performance.now() (the
 * sub-millisecond latencies autocannon rounds to whole milliseconds). The client is a raw socket
 * writing prebuilt request bytes and reading each answer to its Content-Length, as wrk does:
 * Node's http client spent 0.1-0.2 ms of CPU a request, on the same two cores as the server, and
 * that time would have been counted as the server's.
 */
export async function closedLoop(url: string, body: unknown, seconds: number): Promise<LoadResult> {
  const target = new URL(url);
  const payload = Buffer.from(JSON.stringify(body));
  const request = Buffer.concat([
    Buffer.from(`POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\nConnection: keep-alive\r\n\r\n`),
    payload,
  ]);
  const socket = net.connect({ host: target.hostname, port: Number(target.port), noDelay: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let pending: { resolve: (status: number) => void; reject: (error: Error) => void } | null = null;
  let received: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const headerEnd = received.indexOf('\r\n\r\n');
    if (headerEnd < 0 || !pending) return;
    const head = received.subarray(0, headerEnd).toString('latin1');
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) return pending.reject(new Error(`answer without Content-Length: ${head}`));
    if (received.length < headerEnd + 4 + Number(length[1])) return;
    received = received.subarray(headerEnd + 4 + Number(length[1]));
    const done = pending;
    pending = null;
    done.resolve(Number(head.slice(9, 12)));
  });
  socket.on('error', (error) => pending?.reject(error));
  const post = () => new Promise<number>((resolve, reject) => {
    pending = { resolve, reject };
    socket.write(request);
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
    socket.destroy();
  }
  const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { rps: 1000 / mean, p50: at(50), p975: at(97.5), p99: at(99), errors, total: latencies.length };
}
