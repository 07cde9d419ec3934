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
 * One keep-alive connection that POSTs prebuilt requests and reads each answer to its
 * Content-Length, as wrk does: Node's http client spent 0.1-0.2 ms of CPU a request, on the same
 * two cores as the server, and that time would have been counted as the server's (fetch, reading
 * a 150 KiB answer, 1.5 ms a request).
 */
export interface RawClient {
  /** Sends the request of body `which` (0: the first) and resolves with the answer's status once all of its body is in. */
  post(which?: number): Promise<number>;
  close(): void;
}

export async function openRawClient(url: string, ...bodies: unknown[]): Promise<RawClient> {
  const target = new URL(url);
  const requests = bodies.map((body) => {
    const payload = Buffer.from(JSON.stringify(body));
    return Buffer.concat([
      Buffer.from(`POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\nConnection: keep-alive\r\n\r\n`),
      payload,
    ]);
  });
  let pending: { resolve: (status: number) => void; reject: (error: Error) => void } | null = null;
  // Only the head is kept and parsed; the body is counted, not copied, as wrk does (joining a
  // 150 KiB body's chunks cost the client, and so the HTTP side, a copy per answer).
  let head: Buffer = Buffer.alloc(0);
  let remaining = -1, status = 0;
  const onData = (chunk: Buffer) => {
    if (!pending) return;
    if (remaining < 0) {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const headerEnd = head.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const text = head.subarray(0, headerEnd).toString('latin1');
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text);
      if (!length) return pending.reject(new Error(`answer without Content-Length: ${text}`));
      status = Number(text.slice(9, 12));
      remaining = Number(length[1]) - (head.length - headerEnd - 4);
      head = Buffer.alloc(0);
    } else {
      remaining -= chunk.length;
    }
    // One request at a time: nothing can follow the answer on the connection.
    if (remaining > 0) return;
    remaining = -1;
    const done = pending;
    pending = null;
    done.resolve(status);
  };
  // The server closes a keep-alive connection idle for 5 s (a benchmark's other sides can take
  // that long): the next request then opens a new one, and a request cut off fails, not hangs.
  let socket: net.Socket | null = null;
  const connect = async (): Promise<net.Socket> => {
    const opened = net.connect({ host: target.hostname, port: Number(target.port), noDelay: true });
    await new Promise<void>((resolve, reject) => opened.once('connect', resolve).once('error', reject));
    opened.on('data', onData);
    opened.on('error', (error) => pending?.reject(error));
    opened.on('close', () => {
      if (socket === opened) socket = null;
      head = Buffer.alloc(0);
      remaining = -1;
      const cut = pending;
      pending = null;
      cut?.reject(new Error('the server closed the connection during a request'));
    });
    return opened;
  };
  socket = await connect();
  return {
    post: async (which = 0) => {
      const send = async () => {
        if (!socket) socket = await connect();
        const open = socket;
        return new Promise<number>((resolve, reject) => {
          pending = { resolve, reject };
          open.write(requests[which]);
        });
      };
      // A request written just as the server closed the idle connection is sent again, once.
      return send().catch((error: Error) => (/closed the connection/.test(error.message) ? send() : Promise.reject(error)));
    },
    close: () => socket?.destroy(),
  };
}

function summary(latencies: number[], errors: number): LoadResult {
  const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return { rps: 1000 / mean, p50: at(50), p975: at(97.5), p99: at(99), errors, total: latencies.length };
}

/**
 * One client that alternates, request by request, between the server and `local` (the same work
 * in-process), so both sides run within milliseconds of each other and meet the same host noise:
 * on a shared host, the forward pass alone varied by more than the HTTP overhead between rounds
 * a few seconds apart.
 */
export async function alternatingLoop(url: string, body: unknown, local: () => Promise<unknown>, seconds: number): Promise<{ http: LoadResult; local: LoadResult }> {
  const client = await openRawClient(url, body);
  const httpLatencies: number[] = [], localLatencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  try {
    for (let i = 0; performance.now() < end; i++) {
      // Taking turns at going first, so neither side always follows the other's idle threads.
      for (const side of i % 2 === 0 ? ['http', 'local'] : ['local', 'http']) {
        const started = performance.now();
        if (side === 'http') {
          if ((await client.post()) !== 200) errors++;
          httpLatencies.push(performance.now() - started);
        } else {
          await local();
          localLatencies.push(performance.now() - started);
        }
      }
    }
  } finally {
    client.close();
  }
  return { http: summary(httpLatencies, errors), local: summary(localLatencies, 0) };
}
