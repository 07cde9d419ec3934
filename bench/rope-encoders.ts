/**
 * Rotary encoders against onnxruntime-node on standard-op exports of the same weights
 * (bench/export-rope-onnx.ts), same token ids, same threads, one run: a gte-modernbert-base-shaped
 * ModernBERT (768 hidden, 22 layers, window 128) and a Qwen3-Embedding-0.6B-shaped decoder (1024
 * hidden, 28 layers, 16 query / 8 key-value heads of 128). Uniform short batches and mixed lengths
 * up to 2048 tokens; ORT runs padded batches with a mask, our engine padding-free. Also the
 * engine's workspace after each workload, to show memory linear in sequence length.
 *
 *   npm run bench:rope [-- --threads 2 --seconds 20 --only qwen3]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { Engine } from '../lib/engine/engine.js';
import { chunk, nativeRunner, ortFeeds, sequences, timeRuns } from './bench-inputs.js';
import { exportRopeOnnx } from './export-rope-onnx.js';
import { repoRoot } from './minilm-checkpoint.js';

const toolsDir = path.resolve(process.env.SIE_SHARED_DIR ?? path.join(repoRoot, '..', 'shared'), 'tools');
const cache = path.join(repoRoot, 'bench', '.cache');

const MODELS = [
  { name: 'modernbert', label: 'gte-modernbert-base-shaped (768/22, window 128)', make: ['rope_checkpoint.py', 'modernbert'], ids: { first: 50281, last: 50282, lowId: 100, highId: 50000 } },
  { name: 'qwen3', label: 'Qwen3-Embedding-0.6B-shaped (1024/28, GQA 16/8 x 128)', make: ['decoder_checkpoint.py', 'qwen3-embedding'], ids: { first: 10, last: 3997, lowId: 10, highId: 3990 } },
];

function checkpoint(model: (typeof MODELS)[number]): { dir: string; onnx: string } {
  mkdirSync(cache, { recursive: true });
  const dir = path.join(cache, `${model.name}-shaped`);
  if (!existsSync(path.join(dir, 'model.safetensors'))) execFileSync('python3', [path.join(toolsDir, model.make[0]), model.make[1], dir, '--seed', '0'], { stdio: 'inherit' });
  const onnx = path.join(dir, 'model.onnx');
  if (!existsSync(onnx)) exportRopeOnnx(dir, onnx);
  return { dir, onnx };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { threads: { type: 'string' }, seconds: { type: 'string' }, only: { type: 'string' }, fast: { type: 'string' } } });
  const fastDtype = values.fast === 'bf16x3' || values.fast === 'bf16x3q' ? values.fast : 'bf16';
  const threads = Number(values.threads ?? os.availableParallelism());
  const seconds = Number(values.seconds ?? 20);
  const bf16 = nativeAddon().openBackend({ threads: 1 }).dtypes.includes(fastDtype);
  console.log(`# rotary encoders vs onnxruntime-node ${ort.env.versions.common} — ${os.cpus()[0]?.model ?? 'CPU'}, ${threads} threads, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`| model | workload | sie fp32 tokens/s | ort tokens/s | fp32 vs ort | sie ${fastDtype} tokens/s | ${fastDtype} vs ort | sie workspace MiB |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const model of MODELS.filter((m) => !values.only || m.name === values.only)) {
    const { dir, onnx } = checkpoint(model);
    const engine = new Engine({ threads, progress: null, maxBatchTokens: 32768 });
    const lease = await engine.acquire(dir);
    const fast = bf16 ? new Engine({ threads, progress: null, dtype: fastDtype, maxBatchTokens: 32768 }) : undefined;
    const fastLease = fast ? await fast.acquire(dir) : undefined;
    const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
    const seq = (count: number, min: number, max: number, seed: number) => sequences(count, min, max, seed, model.ids);
    const workloads = [
      { name: 'uniform short (16 tok, batch 32)', batches: chunk(seq(64, 16, 16, 1), 32) },
      { name: 'mixed (16-2048 tok, batch 8)', batches: chunk(seq(16, 16, 2048, 2), 8) },
    ];
    for (const workload of workloads) {
      const ours = (l: typeof lease) => nativeRunner(workload.batches, l.model);
      let j = 0;
      const peer = async () => {
        const batch = workload.batches[j++ % workload.batches.length];
        await session.run(ortFeeds(batch, model.ids.last, false));
        return batch.reduce((n, s) => n + s.length, 0);
      };
      const sie = await timeRuns(seconds, ours(lease), false);
      const workspace = (lease.model.native.info.workspaceBytes ?? 0) / 2 ** 20;
      const orts = await timeRuns(seconds, peer, false);
      const quick = fastLease ? await timeRuns(seconds, ours(fastLease), false) : undefined;
      console.log(`| ${model.label} | ${workload.name} | ${sie.tokensPerSec.toFixed(0)} | ${orts.tokensPerSec.toFixed(0)} | ${(sie.tokensPerSec / orts.tokensPerSec).toFixed(2)}x | ${quick ? quick.tokensPerSec.toFixed(0) : '-'} | ${quick ? `${(quick.tokensPerSec / orts.tokensPerSec).toFixed(2)}x` : '-'} | ${workspace.toFixed(0)} |`);
    }
    await session.release();
    lease.release();
    fastLease?.release();
    engine.close();
    fast?.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
