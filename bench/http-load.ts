/**
 * HTTP load test: the sie-server CLI serving a MiniLM-shaped model, driven by autocannon at 1, 8
 * and 64 concurrent clients (one short sentence per request), printed next to the in-process
 * engine running the same requests at the same concurrency in the same run, alternating in rounds
 * (the median of the rounds' ratios). One client is a closed loop timed to the microsecond that
 * takes turns request by request between the server and the engine. An optional soak at 64
 * clients reports errors and the server's RSS at start and end.
 *
 * `--batch 32` sends 32 different sentences per request instead of one; `--dtype bf16` serves
 * (and runs in-process) the bf16 model; `--encoding base64` asks for base64 vectors, as the official
 * openai client does unless told otherwise.
 *
 *   npm run bench:http [-- --seconds 10 --soak-seconds 600 --threads 2 --batch 1 --dtype fp32]
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../lib/engine/engine.js';
import { alternatingLoop, httpLoad, startSieServer } from './http-harness.js';
import { minilmCheckpoint } from './minilm-checkpoint.js';

const ROUNDS = 6;
const WARMUP_SECONDS = 3;
const SINGLE_WARMUP_SECONDS = 12;
const SENTENCE = 'The quick brown fox jumps over the lazy dog near the river bank.';

/**
 * Requests per second of `clients` closed loops (each always has one request out) from their
 * mean latency, by Little's law, for both sides. Counting answers inside a two-second round was
 * off by up to a quarter at 64 clients, where answers come back in bursts of 32 every half second.
 */
function throughputOf(clients: number, meanLatencyMs: number): number {
  return clients / (meanLatencyMs / 1000);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** `count` different sentences of about 16 tokens (the first is SENTENCE). */
function sentencesOf(count: number): string[] {
  const words = SENTENCE.slice(0, -1).split(' ');
  return Array.from({ length: count }, (_, i) => (i === 0 ? SENTENCE : `${words.map((w, j) => words[(j + i) % words.length]).join(' ')}.`));
}

async function inProcess(engine: Engine, model: string, clients: number, seconds: number, input: string[]) {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end) {
      const started = performance.now();
      await engine.embed(model, input);
      latencies.push(performance.now() - started);
    }
  }));
  const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
  latencies.sort((a, b) => a - b);
  return { rps: throughputOf(clients, mean), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/**
 * What the server's own metrics say it spent per /v1/embeddings request (means, seconds summed
 * over requests): all of it, from the request's arrival to its answer written, and the forward
 * passes alone. The client's latency less the first is what happened outside the server.
 */
async function serverSeconds(url: string): Promise<{ requests: number; total: number; inference: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    requests: value(/^sie_http_request_duration_seconds_count\{route="\/v1\/embeddings"\} (\S+)/m),
    total: value(/^sie_http_request_duration_seconds_sum\{route="\/v1\/embeddings"\} (\S+)/m),
    inference: value(/^sie_request_duration_seconds_sum\{[^}]*endpoint="embeddings",phase="inference"\} (\S+)/m),
  };
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** What each HTTP request sends: float answers by default; base64 is what the official openai client asks for. */
let requestBody: (model: string, input: string[]) => object = (model, input) => ({ model, input });
const load = (url: string, model: string, clients: number, seconds: number, input: string[]) => httpLoad(`${url}/v1/embeddings`, requestBody(model, input), clients, seconds);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, 'soak-seconds': { type: 'string' }, threads: { type: 'string' }, batch: { type: 'string' }, dtype: { type: 'string' }, encoding: { type: 'string' } } });
  const encoding = values.encoding === 'base64' ? 'base64' : 'float';
  if (encoding === 'base64') requestBody = (model, input) => ({ model, input, encoding_format: 'base64' });
  const input = sentencesOf(Number(values.batch ?? 1));
  const dtype = values.dtype === 'bf16' ? 'bf16' : 'fp32';
  const seconds = Number(values.seconds ?? 10);
  const soakSeconds = Number(values['soak-seconds'] ?? 0);
  const threads = Number(values.threads ?? os.availableParallelism());
  const { modelDir } = minilmCheckpoint('dense-mean', false);
  const model = path.basename(modelDir);
  const port = 18000 + Math.floor(Math.random() * 1000);
  const server = await startSieServer(modelDir, port, threads, ['--dtype', dtype]);
  const url = `http://127.0.0.1:${port}`;
  try {
    console.log(`# HTTP load vs in-process — ${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'CPU'}, ${threads} compute threads, MiniLM-shaped, ${input.length} sentence(s) of about 16 tokens per request, ${dtype}, ${encoding} answers, ${seconds} s per row`);
    console.log('| clients | http req/s | in-process req/s | ratio | http p50 ms | in-process p50 ms | http p99 ms | in-process p99 ms | errors |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    const engine = new Engine({ threads, progress: null, dtype });
    await engine.load(modelDir);
    let oneClient = '';
    try {
      // Both sides warm up first: V8 compiles the server's request path (Fastify, the HTTP parser,
      // our routes) over its first few thousand requests, on threads of their own that share
      // the two cores with the forward pass. Measured cold, that JIT work counted as HTTP overhead.
      // One client's requests take the inline path, which batched ones never reach: on Zen 4 its
      // gap fell from 1.0-1.2 ms over the first 400 requests to 0.5-0.6 ms past 2,000-3,000, so
      // one client alternates for SINGLE_WARMUP_SECONDS (about 3,000 requests a side) first.
      await alternatingLoop(`${url}/v1/embeddings`, requestBody(model, input), () => engine.embed(model, input), SINGLE_WARMUP_SECONDS);
      await load(url, model, 8, WARMUP_SECONDS, input);
      await inProcess(engine, model, 8, WARMUP_SECONDS, input);
      for (const clients of [1, 8, 64]) {
        // HTTP and in-process alternate in short rounds, taking turns at going first. The ratio is
        // the median of the rounds' own ratios, each from two runs minutes apart at most, so a
        // burst of host noise moves one round, not the row; the other columns are per-side
        // medians. Each side's threads sleep while the other runs. One client is timed by our
        // own closed loop (sub-millisecond percentiles), taking turns request by request.
        const rounds: Array<{ http: Awaited<ReturnType<typeof load>>; local: Awaited<ReturnType<typeof inProcess>> }> = [];
        const serverBefore = await serverSeconds(url);
        const runHttp = () => load(url, model, clients, seconds / ROUNDS, input);
        const runLocal = () => inProcess(engine, model, clients, seconds / ROUNDS, input);
        for (let round = 0; round < ROUNDS; round++) {
          if (clients === 1) {
            // One client alternates request by request between the two sides (alternatingLoop).
            rounds.push(await alternatingLoop(`${url}/v1/embeddings`, requestBody(model, input), () => engine.embed(model, input), seconds / ROUNDS));
          } else if (round % 2 === 0) {
            const http = await runHttp();
            rounds.push({ http, local: await runLocal() });
          } else {
            const local = await runLocal();
            rounds.push({ http: await runHttp(), local });
          }
        }
        const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
        const ratio = median(rounds.map((r) => r.http.rps / r.local.rps));
        const cell = (pick: (r: (typeof rounds)[number]) => number, digits: number) => median(rounds.map(pick)).toFixed(digits);
        const errors = rounds.reduce((sum, r) => sum + r.http.errors, 0);
        if (clients === 1) {
          // The single-sentence goal is a difference of p50s (HTTP within 0.5 ms of in-process),
          // so each round's own difference is reported, and where the server's share of it went.
          const server = await serverSeconds(url);
          const requests = server.requests - serverBefore.requests;
          const inServerMs = ((server.total - serverBefore.total) / requests) * 1000;
          const inferenceMs = ((server.inference - serverBefore.inference) / requests) * 1000;
          const httpMeanMs = rounds.reduce((sum, r) => sum + 1000 / r.http.rps, 0) / rounds.length;
          const gaps = rounds.map((r) => r.http.p50 - r.local.p50).sort((a, b) => a - b);
          oneClient = `one client: HTTP p50 minus in-process p50 ${median(gaps).toFixed(2)} ms (rounds ${gaps[0].toFixed(2)} to ${gaps[gaps.length - 1].toFixed(2)}); ` +
            `per request (means) the server spent ${inServerMs.toFixed(2)} ms from arrival to answer written, ${inferenceMs.toFixed(2)} ms of it in forward passes, ` +
            `and ${(httpMeanMs - inServerMs).toFixed(2)} ms passed outside it (sockets, wake-ups, the client)`;
        }
        console.log(`| ${clients} | ${cell((r) => r.http.rps, 0)} | ${cell((r) => r.local.rps, 0)} | ${ratio.toFixed(2)} | ${cell((r) => r.http.p50, 2)} | ${cell((r) => r.local.p50, 2)} | ${cell((r) => r.http.p99, 2)} | ${cell((r) => r.local.p99, 2)} | ${errors} |`);
      }
      if (oneClient) console.log(`\n${oneClient}`);
    } finally {
      engine.close();
    }
    if (soakSeconds > 0) {
      const before = rssMiB(server.pid!);
      const soak = await load(url, model, 64, soakSeconds, input);
      const after = rssMiB(server.pid!);
      console.log(`soak: 64 clients for ${soakSeconds} s: ${soak.total} requests, ${soak.errors} errors, ${soak.rps.toFixed(0)} req/s, p99 ${soak.p99} ms; server RSS ${before.toFixed(0)} MiB -> ${after.toFixed(0)} MiB`);
    }
  } finally {
    server.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
