/**
 * bge-m3-shaped throughput (1024 hidden, 24 layers, 16 heads, 4096 FFN; seeded weights, the
 * XLM-R stand-in vocabulary): dense alone against all three outputs from one forward, and dense
 * against onnxruntime-node running the same encoder, with the same token ids and threads, in one
 * run. ORT runs padded [batch, longest] tensors with a mask; our engine runs padding-free.
 * Throughput counts real tokens for both; each side keeps its best of the alternating rounds.
 *
 * The ONNX graph is ../shared/tools/export-bert-onnx.mjs run on an XLM-R "position view" of the
 * checkpoint: its position table shifted by pad_token_id + 1 rows, so the BERT graph's positions
 * 0..T-1 read exactly XLM-R's positions pad+1..pad+T for every real token of a right-padded batch
 * (pad tokens are masked). Same weights, same cost, same numbers.
 *
 *   npm run bench:bge-m3 [-- --threads 2 --seconds 6 --rounds 2 --only long]
 */
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { Engine } from '../lib/engine/engine.js';
import type { OutputType } from '../lib/families/index.js';
import { chunk, nativeRunner, ortFeeds, sequences, timeRuns } from './bench-inputs.js';
import { repoRoot } from './minilm-checkpoint.js';

const toolsDir = path.resolve(process.env.SIE_SHARED_DIR ?? path.join(repoRoot, '..', 'shared'), 'tools');
const cache = path.join(repoRoot, 'bench', '.cache');

function python(): string {
  const venv = path.join(repoRoot, '.venv-peers', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';  // make_checkpoint.py needs torch for the .pt heads
}

function bgeM3Checkpoint(): string {
  const dir = path.join(cache, 'bge-m3-shaped');
  if (!existsSync(path.join(dir, 'model.safetensors'))) {
    execFileSync(python(), [path.join(toolsDir, 'make_checkpoint.py'), 'bge-m3', dir, '--hidden', '1024', '--layers', '24', '--heads', '16', '--inter', '4096', '--seed', '0'], { stdio: 'inherit' });
  }
  return dir;
}

/** The checkpoint with its position table shifted by pad + 1 rows, exported to ONNX. */
function onnxOfPositionView(modelDir: string): string {
  const view = path.join(cache, 'bge-m3-shaped-position-view');
  const onnxPath = path.join(view, 'model.onnx');
  if (existsSync(onnxPath)) return onnxPath;
  mkdirSync(view, { recursive: true });
  const config = JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as { pad_token_id: number; hidden_size: number };
  copyFileSync(path.join(modelDir, 'config.json'), path.join(view, 'config.json'));
  const bytes = readFileSync(path.join(modelDir, 'model.safetensors'));
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString()) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const positions = header['embeddings.position_embeddings.weight'];
  if (positions.dtype !== 'F32') throw new Error('expected F32 position embeddings');
  const [begin, end] = positions.data_offsets.map((o) => 8 + headerLength + o);
  const shift = (config.pad_token_id + 1) * config.hidden_size * 4;
  const shifted = Buffer.alloc(end - begin);
  bytes.copy(shifted, 0, begin + shift, end);
  shifted.copy(bytes, begin);
  writeFileSync(path.join(view, 'model.safetensors'), bytes);
  execFileSync(process.execPath, [path.join(toolsDir, 'export-bert-onnx.mjs'), view, onnxPath], { cwd: repoRoot, env: { ...process.env, CLIENT_FROM: path.join(repoRoot, 'package.json') }, stdio: 'inherit' });
  return onnxPath;
}

/** XLM-R sequences: <s> content </s>, content ids from the stand-in vocabulary's ordinary pieces. */
const XLMR_IDS = { first: 0, last: 2, lowId: 5, highId: 7995 };
const xlmrSequences = (count: number, minLen: number, maxLen: number, seed: number) => sequences(count, minLen, maxLen, seed, XLMR_IDS);

function cpuModel(): string {
  const fd = openSync('/proc/cpuinfo', 'r');
  const buffer = Buffer.alloc(4096);
  readSync(fd, buffer, 0, buffer.length, 0);
  closeSync(fd);
  return /model name\s*:\s*(.*)/.exec(buffer.toString())?.[1] ?? os.cpus()[0]?.model ?? 'unknown CPU';
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { threads: { type: 'string' }, seconds: { type: 'string' }, rounds: { type: 'string' }, only: { type: 'string' }, fast: { type: 'string' } } });
  const fastDtype = values.fast === 'bf16x3' || values.fast === 'bf16x3q' ? values.fast : 'bf16';
  const threads = Number(values.threads ?? os.availableParallelism());
  const seconds = Number(values.seconds ?? 6);
  const rounds = Number(values.rounds ?? 2);
  const modelDir = bgeM3Checkpoint();
  const onnxPath = onnxOfPositionView(modelDir);
  const engine = new Engine({ threads, progress: null, maxBatchTokens: 16384 });
  await engine.load(modelDir);
  const lease = await engine.acquire(modelDir);
  // Where the CPU computes bf16 natively, the bf16 engine (past its fidelity gate) too.
  const bf16Engine = nativeAddon().openBackend({ threads: 1 }).dtypes.includes(fastDtype) ? new Engine({ threads, progress: null, dtype: fastDtype, maxBatchTokens: 16384 }) : undefined;
  const bf16Lease = bf16Engine ? await bf16Engine.acquire(modelDir) : undefined;
  if (bf16Lease && bf16Lease.model.dtype !== fastDtype) throw new Error(`${fastDtype} failed its fidelity gate: ${bf16Lease.model.fidelity?.detail}`);
  const session = await ort.InferenceSession.create(onnxPath, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
  const addon = nativeAddon();
  console.log(`# bge-m3-shaped (1024/24/16/4096): dense vs all three outputs, and vs onnxruntime-node ${ort.env.versions.common} — ${new Date().toISOString().slice(0, 10)}`);
  console.log(`# ${cpuModel()}, ${threads} threads, fp32, gemm kernel ${addon.kernels.gemmKernel}, CPU ISA ${addon.kernels.cpuIsa.active}; ${rounds} alternating rounds of ${seconds / rounds} s, best kept`);
  if (bf16Lease) console.log(`# ${fastDtype} fidelity: ${bf16Lease.model.fidelity?.detail}`);
  console.log(`| workload | dense tokens/s | dense+sparse+multivector tokens/s | all three cost vs dense | ort tokens/s | dense vs ort | ${fastDtype} dense tokens/s | ${fastDtype} dense vs ort |`);
  console.log('|---|---|---|---|---|---|---|---|');
  const workloads = [
    { name: 'short uniform (16 tok, batch 32)', batches: chunk(xlmrSequences(128, 16, 16, 1), 32) },
    { name: 'mixed (8-512 tok, batch 16)', batches: chunk(xlmrSequences(64, 8, 512, 2), 16) },
    { name: 'long (2048 tok, batch 1)', batches: chunk(xlmrSequences(2, 2048, 2048, 3), 1) },
  ];
  for (const workload of workloads.filter((w) => !values.only || w.name.startsWith(values.only))) {
    // The loaded model's native forward with the head computing just these outputs.
    const runner = (outputs: ReadonlyArray<OutputType>, model = lease.model) => nativeRunner(workload.batches, model, outputs);
    let j = 0;
    const runOrt = async () => {
      const batch = workload.batches[j++ % workload.batches.length];
      await session.run(ortFeeds(batch, 1));
      return batch.reduce((n, s) => n + s.length, 0);
    };
    const best = { dense: 0, all: 0, ort: 0, bf16: 0 };
    for (let round = 0; round < rounds; round++) {
      best.dense = Math.max(best.dense, (await timeRuns(seconds / rounds, runner(['dense']), false)).tokensPerSec);
      best.all = Math.max(best.all, (await timeRuns(seconds / rounds, runner(['dense', 'sparse', 'multivector']), false)).tokensPerSec);
      best.ort = Math.max(best.ort, (await timeRuns(seconds / rounds, runOrt, false)).tokensPerSec);
      // The fast dtype on dense alone, as ORT computes it.
      if (bf16Lease) best.bf16 = Math.max(best.bf16, (await timeRuns(seconds / rounds, runner(['dense'], bf16Lease.model), false)).tokensPerSec);
    }
    console.log(`| ${workload.name} | ${best.dense.toFixed(0)} | ${best.all.toFixed(0)} | ${(best.dense / best.all).toFixed(3)}x | ${best.ort.toFixed(0)} | ${(best.dense / best.ort).toFixed(2)}x | ${bf16Lease ? `${best.bf16.toFixed(0)} | ${(best.bf16 / best.ort).toFixed(2)}x` : '- | -'} |`);
  }
  lease.release();
  bf16Lease?.release();
  await session.release();
  engine.close();
  bf16Engine?.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
