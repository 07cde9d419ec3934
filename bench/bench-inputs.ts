/**
 * What the in-process benchmarks share: seeded token sequences, batching, a timed loop, and
 * onnxruntime-node's padded feeds for the same sequences.
 */
import * as ort from 'onnxruntime-node';

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

/** ORT's padded [batch, longest] int64 feeds with an attention mask; pads with `padId`. */
export function ortFeeds(batch: number[][], padId = 0): Record<string, ort.Tensor> {
  const longest = Math.max(...batch.map((s) => s.length));
  const ids = new BigInt64Array(batch.length * longest).fill(BigInt(padId));
  const mask = new BigInt64Array(batch.length * longest);
  batch.forEach((s, b) => s.forEach((id, i) => {
    ids[b * longest + i] = BigInt(id);
    mask[b * longest + i] = 1n;
  }));
  const dims = [batch.length, longest];
  return { input_ids: new ort.Tensor('int64', ids, dims), attention_mask: new ort.Tensor('int64', mask, dims), token_type_ids: new ort.Tensor('int64', new BigInt64Array(ids.length), dims) };
}
