/**
 * sie-server over HTTP against PyTorch on the CPU, fp32 and bf16 autocast, on the same seeded
 * MiniLM-shaped checkpoint, the same token ids and the same thread count, in one run (issue 16).
 *
 * - PyTorch: bench/pytorch_peer.py in the peers' venv (transformers' BertModel, padded batches
 *   with a mask, masked mean pooling and normalisation: sentence-transformers' computation),
 *   fp32 and `torch.autocast("cpu", dtype=torch.bfloat16)`.
 * - sie-server: the `serve` CLI in a child process, fp32 and `--dtype bf16`, one client sending
 *   each batch as token ids to `/v1/embeddings` and waiting for the answer (a closed loop: every
 *   millisecond of HTTP, JSON and scheduling is on the clock), floats in the JSON body. The
 *   client reads answers as wrk does (bytes counted, not parsed; each batch's answer is checked
 *   once before timing), so its own CPU is not charged to the server.
 * - The bf16 engine in this process on the same batches, to show what HTTP costs.
 *
 * Everything takes turns in rounds per workload (rotated order); ratios are medians of the rounds'
 * own ratios. Both servers are warmed up first (V8 compiles the request path over the first few
 * thousand requests).
 *
 *   npm run bench:pytorch [-- --threads 2 --seconds 10 --rounds 5]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Engine } from '../lib/engine/engine.js';
import { chunk, sequences, timeRuns } from './bench-inputs.js';
import { openRawClient, startSieServer, type RawClient } from './http-harness.js';
import { minilmCheckpoint, repoRoot } from './minilm-checkpoint.js';

const BERT_IDS = { first: 101, last: 102, lowId: 1000, highId: 29000 };
const bertSequences = (count: number, minLen: number, maxLen: number, seed: number) => sequences(count, minLen, maxLen, seed, BERT_IDS);

const workloads = [
  { name: 'short (16 tok, batch 32)', batches: chunk(bertSequences(256, 16, 16, 1), 32) },
  { name: 'mixed (8-256 tok, batch 32)', batches: chunk(bertSequences(256, 8, 256, 2), 32) },
  { name: 'long (256 tok, batch 8)', batches: chunk(bertSequences(64, 256, 256, 3), 8) },
  { name: 'single sentence (12 tok)', batches: [bertSequences(1, 12, 12, 4)] },
];

interface Rate {
  tokensPerSec: number;
  msPerCall: number;
}

/** The PyTorch peer process: one JSON job per line in, one JSON result per line out. */
function pytorchPeer() {
  const python = path.join(repoRoot, '.venv-peers', 'bin', 'python');
  if (!existsSync(python)) throw new Error('needs the peers venv: bash scripts/setup-python-peers.sh');
  const child = spawn(python, [path.join(repoRoot, 'bench', 'pytorch_peer.py')], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, HF_HUB_OFFLINE: '1' } });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async run(job: { model: string; threads: number; seconds: number; dtype: 'fp32' | 'bf16'; batches: number[][][] }): Promise<Rate> {
      child.stdin.write(`${JSON.stringify(job)}\n`);
      const next = await lines.next();
      if (next.done) throw new Error('the PyTorch peer exited');
      const result = JSON.parse(next.value) as { tokens_per_sec: number; ms_per_call: number };
      return { tokensPerSec: result.tokens_per_sec, msPerCall: result.ms_per_call };
    },
    close: () => child.kill(),
  };
}

/**
 * One client, one request at a time: each batch's content ids (the server frames them) as OpenAI
 * token input. Each batch's answer is checked once (one vector per sequence); the timed requests
 * then go through a raw keep-alive client that counts the answer's bytes without parsing them, as
 * wrk does: fetch cost this client 1.5 ms of CPU for each 150 KiB answer, on the two cores the
 * server computes on, and that is not the server's time.
 */
async function httpRunner(port: number, model: string, batches: number[][][]): Promise<() => Promise<number>> {
  const url = `http://127.0.0.1:${port}/v1/embeddings`;
  const bodies = batches.map((b) => ({ model, input: b.map((s) => s.slice(1, -1)) }));
  for (const [at, body] of bodies.entries()) {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = (await response.json()) as { data?: unknown[] };
    if (!response.ok || answer.data?.length !== batches[at].length) throw new Error(`HTTP ${response.status}: ${JSON.stringify(answer).slice(0, 200)}`);
  }
  const client = await openRawClient(url, ...bodies);
  clients.push(client);
  const tokens = batches.map((b) => b.reduce((n, s) => n + s.length, 0));
  let i = 0;
  return async () => {
    const at = i++ % bodies.length;
    const status = await client.post(at);
    if (status !== 200) throw new Error(`HTTP ${status}`);
    return tokens[at];
  };
}

/** Raw clients opened by httpRunner, closed at the end. */
const clients: RawClient[] = [];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { threads: { type: 'string' }, seconds: { type: 'string' }, rounds: { type: 'string' }, only: { type: 'string' } } });
  const threads = Number(values.threads ?? 2);
  const seconds = Number(values.seconds ?? 6);
  const rounds = Number(values.rounds ?? 5);
  const slice = seconds / rounds;
  const { modelDir } = minilmCheckpoint('dense-mean', false);
  const peer = pytorchPeer();
  const fp32Server = await startSieServer(modelDir, 18411, threads);
  const bf16Server = await startSieServer(modelDir, 18412, threads, ['--dtype', 'bf16']);
  const engine = new Engine({ threads, progress: null, dtype: 'bf16' });
  const inProcess = await engine.load(modelDir);
  const modelId = path.basename(modelDir);
  const servedDtype = ((await (await fetch('http://127.0.0.1:18412/v1/models')).json()) as { models: Array<{ dtype?: string }> }).models[0]?.dtype;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# sie-server over HTTP vs PyTorch ${'2.13'} CPU — ${new Date().toISOString().slice(0, 10)}`);
  console.log(`# ${cpu}, ${threads} threads, MiniLM-shaped (384/6/12/1536), ${rounds} rounds of ${slice.toFixed(1)} s in rotated order, medians of per-round ratios; served bf16 model reports dtype ${servedDtype}; in-process bf16 gate: ${inProcess.fidelity?.detail ?? 'n/a'}`);
  console.log('| workload | torch fp32 tok/s | torch bf16 tok/s | sie fp32 HTTP tok/s | sie bf16 HTTP tok/s | sie bf16 in-process tok/s | sie fp32 HTTP / torch fp32 | sie bf16 HTTP / torch bf16 | bf16 HTTP / in-process | ms/call torch bf16 | ms/call sie bf16 HTTP | ms/call sie bf16 in-process |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  try {
    for (const port of [18411, 18412]) await timeRuns(3, await httpRunner(port, modelId, workloads[0].batches));
    for (const workload of workloads.filter((w) => !values.only || w.name.startsWith(values.only))) {
      const httpFp32 = await httpRunner(18411, modelId, workload.batches);
      const httpBf16 = await httpRunner(18412, modelId, workload.batches);
      const contentIds = workload.batches.map((b) => b.map((s) => s.slice(1, -1)));
      let k = 0;
      const local = async () => {
        const batch = contentIds[k++ % contentIds.length];
        await engine.embed(modelDir, batch);
        return batch.reduce((n, s) => n + s.length + 2, 0);
      };
      const job = { model: modelDir, threads, seconds: slice, batches: workload.batches };
      // Each round runs the five sides in a rotated order; ratios are medians of the rounds' own
      // ratios, the other columns per-side medians, so a burst of host noise moves one round.
      const sides = {
        torch32: () => peer.run({ ...job, dtype: 'fp32' }),
        torch16: () => peer.run({ ...job, dtype: 'bf16' }),
        sie32: () => timeRuns(slice, httpFp32),
        sie16: () => timeRuns(slice, httpBf16),
        sieLocal: () => timeRuns(slice, local),
      };
      type Side = keyof typeof sides;
      const names = Object.keys(sides) as Side[];
      const results: Array<Record<Side, Rate>> = [];
      for (let round = 0; round < rounds; round++) {
        const result = {} as Record<Side, Rate>;
        for (let k = 0; k < names.length; k++) {
          const side = names[(k + round) % names.length];
          result[side] = await sides[side]();
        }
        results.push(result);
      }
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
      const tokens = (side: Side) => median(results.map((x) => x[side].tokensPerSec)).toFixed(0);
      const ms = (side: Side) => median(results.map((x) => x[side].msPerCall)).toFixed(2);
      const r = (a: Side, b: Side) => `${median(results.map((x) => x[a].tokensPerSec / x[b].tokensPerSec)).toFixed(2)}x`;
      console.log(`| ${workload.name} | ${tokens('torch32')} | ${tokens('torch16')} | ${tokens('sie32')} | ${tokens('sie16')} | ${tokens('sieLocal')} | ${r('sie32', 'torch32')} | ${r('sie16', 'torch16')} | ${r('sie16', 'sieLocal')} | ${ms('torch16')} | ${ms('sie16')} | ${ms('sieLocal')} |`);
    }
  } finally {
    for (const client of clients) client.close();
    peer.close();
    fp32Server.kill();
    bf16Server.kill();
    engine.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
