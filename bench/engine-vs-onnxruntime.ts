/**
 * In-process throughput and latency of sie-server's engine next to onnxruntime-node on the same
 * MiniLM-shaped weights, the same token ids and the same thread count, measured in one run.
 * ORT runs the usual padded [batch, longest] tensors with an attention mask; our engine runs
 * padding-free. Throughput counts real (unpadded) tokens for both. The engines take turns in five
 * rounds per workload; ratios are medians of the rounds' own ratios.
 *
 * Where the CPU computes bf16 natively (AVX512-BF16 or AMX), a bf16 engine is measured in the
 * same rounds (its weights in bf16, fp32 accumulation, past its fidelity gate).
 *
 *   npm run bench [-- --threads 2 --seconds 3]
 *
 * --model DIR --onnx FILE measure another BERT checkpoint and its ONNX export instead (e.g. a
 * bge-base-shaped one from ../shared/tools/make_checkpoint.py and export-bert-onnx.mjs, whose
 * weights do not fit in L3: a short request then streams them from memory); --only TEXT keeps the
 * workloads whose name contains TEXT.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { Engine } from '../lib/engine/engine.js';
import { chunk, ortFeeds, sequences, timeRuns } from './bench-inputs.js';
import { minilmCheckpoint } from './minilm-checkpoint.js';

interface Workload {
  name: string;
  batches: number[][][];  // batches of sequences of token ids (with [CLS] ... [SEP])
}

const BERT_IDS = { first: 101, last: 102, lowId: 1000, highId: 29000 };
const bertSequences = (count: number, minLen: number, maxLen: number, seed: number) => sequences(count, minLen, maxLen, seed, BERT_IDS);

const ROUNDS = 5;

const workloads: Workload[] = [
  { name: 'short (16 tok, batch 32)', batches: chunk(bertSequences(256, 16, 16, 1), 32) },
  { name: 'mixed (8-256 tok, batch 32)', batches: chunk(bertSequences(256, 8, 256, 2), 32) },
  { name: 'long (256 tok, batch 8)', batches: chunk(bertSequences(64, 256, 256, 3), 8) },
  { name: 'single sentence (12 tok)', batches: [bertSequences(1, 12, 12, 4)] },
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string' }, seconds: { type: 'string' }, fast: { type: 'string' }, model: { type: 'string' }, onnx: { type: 'string' },
      only: { type: 'string' },
    },
  });
  if (Boolean(values.model) !== Boolean(values.onnx)) throw new Error('--model and --onnx go together');
  // The fast column's dtype: bf16 (default) or bf16x3 (--fast bf16x3, AMX: fp32-grade numbers).
  const fastDtype = values.fast === 'bf16x3' || values.fast === 'bf16x3q' ? values.fast : 'bf16';
  const threads = Number(values.threads ?? os.availableParallelism());
  const seconds = Number(values.seconds ?? 3);
  const { modelDir, onnxPath } = values.model ? { modelDir: path.resolve(values.model), onnxPath: path.resolve(values.onnx!) } : minilmCheckpoint();
  const config = JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as Record<string, number>;
  const shape = `${config.hidden_size}/${config.num_hidden_layers}/${config.num_attention_heads}/${config.intermediate_size}`;
  const modelName = values.model ? `${path.basename(modelDir)} (${shape})` : `MiniLM-shaped (${shape})`;
  const engine = new Engine({ threads, progress: null });
  await engine.load(modelDir);
  const addon = (await import('../lib/bindings/native-addon.js')).nativeAddon();
  const bf16 = addon.openBackend({ threads: 1 }).dtypes.includes(fastDtype) ? new Engine({ threads, progress: null, dtype: fastDtype }) : undefined;
  const bf16Model = bf16 ? await bf16.load(modelDir) : undefined;
  if (bf16Model && bf16Model.dtype !== fastDtype) throw new Error(`the ${fastDtype} model failed its fidelity gate: ${bf16Model.fidelity?.detail}`);
  const session = await ort.InferenceSession.create(onnxPath, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# sie-server engine vs onnxruntime-node ${ort.env.versions.common} — ${new Date().toISOString().slice(0, 10)}`);
  console.log(`# ${cpu}, ${threads} threads, ${modelName}, fp32 gemm kernel: ${addon.kernels.gemmKernel}, CPU ISA: ${addon.kernels.cpuIsa.active}${bf16Model ? `, ${fastDtype} fidelity: ${bf16Model.fidelity?.detail}` : `, no native ${fastDtype}`}`);
  console.log(`| workload | sie tokens/s | ort tokens/s | ratio | sie ms/call | ort ms/call | sie sentences/s | sie ${fastDtype} tokens/s | ${fastDtype} vs ort | ${fastDtype} ms/call |`);
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const workload of workloads.filter((w) => !values.only || w.name.includes(values.only))) {
    const contentIds = workload.batches.map((b) => b.map((s) => s.slice(1, -1)));
    let i = 0, j = 0;
    const runSie = async () => {
      const batch = contentIds[i++ % contentIds.length];
      await engine.embed(modelDir, batch);
      return batch.reduce((n, s) => n + s.length + 2, 0);
    };
    let h = 0;
    const runBf16 = async () => {
      const batch = contentIds[h++ % contentIds.length];
      await bf16!.embed(modelDir, batch);
      return batch.reduce((n, s) => n + s.length + 2, 0);
    };
    const runPeer = async () => {
      const batch = workload.batches[j++ % workload.batches.length];
      await session.run(ortFeeds(batch));
      return batch.reduce((n, s) => n + s.length, 0);
    };
    // The engines take turns in short rounds, each round in a rotated order. Each ratio is the
    // median of the rounds' own ratios (two runs seconds apart), the other columns per-engine
    // medians: on a shared host a burst of noise moves one round, not the row.
    type Run = Awaited<ReturnType<typeof timeRuns>>;
    const rounds: Array<{ sie: Run; peer: Run; fast?: Run }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = ['sie', 'peer', 'fast'].map((_, k, all) => all[(k + round) % all.length]);
      const result: { sie?: Run; peer?: Run; fast?: Run } = {};
      for (const side of order) {
        if (side === 'sie') result.sie = await timeRuns(seconds / ROUNDS, runSie);
        else if (side === 'peer') result.peer = await timeRuns(seconds / ROUNDS, runPeer);
        else if (bf16) result.fast = await timeRuns(seconds / ROUNDS, runBf16);
      }
      rounds.push(result as { sie: Run; peer: Run; fast?: Run });
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
    const of = (pick: (r: (typeof rounds)[number]) => number) => median(rounds.map(pick));
    const ratio = of((r) => r.sie.tokensPerSec / r.peer.tokensPerSec);
    const fastRatio = bf16 ? of((r) => r.fast!.tokensPerSec / r.peer.tokensPerSec) : 0;
    const avgLen = workload.batches.flat().reduce((n, s) => n + s.length, 0) / workload.batches.flat().length;
    const sieTokens = of((r) => r.sie.tokensPerSec);
    console.log(`| ${workload.name} | ${sieTokens.toFixed(0)} | ${of((r) => r.peer.tokensPerSec).toFixed(0)} | ${ratio.toFixed(2)}x | ${of((r) => r.sie.msPerCall).toFixed(2)} | ${of((r) => r.peer.msPerCall).toFixed(2)} | ${(sieTokens / avgLen).toFixed(0)} | ${bf16 ? `${of((r) => r.fast!.tokensPerSec).toFixed(0)} | ${fastRatio.toFixed(2)}x | ${of((r) => r.fast!.msPerCall).toFixed(2)}` : '- | - | -'} |`);
  }
  await session.release();
  engine.close();
  bf16?.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
