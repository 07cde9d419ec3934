/**
 * What the in-process benchmarks share: seeded token sequences, batching, a timed loop, and
 * onnxruntime-node's padded feeds for the same sequences.
 */
import * as ort from 'onnxruntime-node';
import type { NativeModel } from '../lib/bindings/native-addon.js';
import type { OutputType } from '../lib/families/index.js';

/** A seeded LCG, so every engine sees the same token ids run after run. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** `count` sequences of minLen..maxLen tokens: first, random content ids in [lowId, highId), last. */
export function sequences(count: number, minLen: number, maxLen: number, seed: number, ids: { first: number; last: number; lowId: number; highId: number }): number[][] {
  const random = rng(seed);
  return Array.from({ length: count }, () => {
    const length = minLen + Math.floor(random() * (maxLen - minLen + 1));
    return [ids.first, ...Array.from({ length: length - 2 }, () => ids.lowId + Math.floor(random() * (ids.highId - ids.lowId))), ids.last];
  });
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Calls `run` (which returns the tokens it processed) for at least `seconds`, after one warm-up call when `warmUp`. */
export async function timeRuns(seconds: number, run: () => Promise<number>, warmUp = true): Promise<{ tokensPerSec: number; msPerCall: number; calls: number }> {
  if (warmUp) await run();
  let tokens = 0, calls = 0;
  const started = performance.now();
  do {
    tokens += await run();
    calls++;
  } while (performance.now() - started < seconds * 1000);
  const elapsed = (performance.now() - started) / 1000;
  return { tokensPerSec: tokens / elapsed, msPerCall: (elapsed * 1000) / calls, calls };
}

/** ORT's padded [batch, longest] int64 feeds with an attention mask (and zero token types, for graphs that take them); pads with `padId`. */
export function ortFeeds(batch: number[][], padId = 0, withTypeIds = true): Record<string, ort.Tensor> {
  const longest = Math.max(...batch.map((s) => s.length));
  const ids = new BigInt64Array(batch.length * longest).fill(BigInt(padId));
  const mask = new BigInt64Array(batch.length * longest);
  batch.forEach((s, b) => s.forEach((id, i) => {
    ids[b * longest + i] = BigInt(id);
    mask[b * longest + i] = 1n;
  }));
  const dims = [batch.length, longest];
  const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', ids, dims), attention_mask: new ort.Tensor('int64', mask, dims) };
  if (withTypeIds) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(ids.length), dims);
  return feeds;
}

/** A timeRuns body: the loaded model's native forward on the next batch (only `outputs` for a multi-output head); returns its tokens. */
export function nativeRunner(batches: number[][][], model: { native: NativeModel }, outputs?: ReadonlyArray<OutputType>): () => Promise<number> {
  let i = 0;
  return async () => {
    const batch = batches[i++ % batches.length];
    const offsets = [0];
    for (const s of batch) offsets.push(offsets[offsets.length - 1] + s.length);
    const ids = Int32Array.from(batch.flat());
    await model.native.run(ids, new Int32Array(ids.length), Int32Array.from(offsets), outputs);
    return ids.length;
  };
}
