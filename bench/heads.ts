/**
 * Throughput of every head on MiniLM-shaped checkpoints (384/6/12/1536, same token ids):
 * dense, SPLADE sparse and ColBERT multivector encode, and cross-encoder rerank in pairs/s,
 * printed next to dense as a ratio.  npm run bench:heads [-- --threads 2 --seconds 3]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Engine } from '../lib/engine/engine.js';
import { minilmCheckpoint } from './minilm-checkpoint.js';

function words(count: number, seed: number): string[] {
  const vocabulary = ['embedding', 'vector', 'search', 'model', 'token', 'query', 'document', 'rank', 'server', 'fast', 'node', 'native', 'kernel', 'matrix', 'batch', 'sparse', 'dense', 'late', 'interaction', 'score'];
  let s = seed;
  return Array.from({ length: count }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return vocabulary[s % vocabulary.length];
  });
}

/** 32 texts of 8 to 200 words: mixed lengths. */
function mixedTexts(seed: number): string[] {
  return Array.from({ length: 32 }, (_, i) => words(8 + ((i * 37 + seed) % 193), seed + i).join(' '));
}

async function rate(seconds: number, run: () => Promise<number>): Promise<number> {
  await run();
  let units = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) units += await run();
  return units / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { threads: { type: 'string' }, seconds: { type: 'string' } } });
  const threads = Number(values.threads ?? os.availableParallelism());
  const seconds = Number(values.seconds ?? 3);
  const engine = new Engine({ threads, progress: null });
  const dirs = Object.fromEntries(['dense-mean', 'splade', 'colbert', 'cross-encoder'].map((kind) => [kind, minilmCheckpoint(kind, false).modelDir]));
  for (const dir of Object.values(dirs)) await engine.load(dir);
  const texts = mixedTexts(1);
  const dense = (await engine.acquire(dirs['dense-mean'])).model;
  const tokensPerCall = (await dense.encode(texts)).tokenCounts.reduce((a, b) => a + b, 0);
  const rows: Array<[string, number, string]> = [];
  const denseRate = await rate(seconds, async () => (await dense.encode(texts), tokensPerCall));
  rows.push(['dense (mean pooling)', denseRate, 'tokens/s']);
  const splade = (await engine.acquire(dirs.splade)).model;
  rows.push(['sparse (SPLADE, vocab 30522)', await rate(seconds, async () => (await splade.encode(texts, { outputTypes: ['sparse'] }), tokensPerCall)), 'tokens/s']);
  const colbert = (await engine.acquire(dirs.colbert)).model;
  rows.push(['multivector (ColBERT, 128 dims)', await rate(seconds, async () => (await colbert.encode(texts, { outputTypes: ['multivector'] }), tokensPerCall)), 'tokens/s']);
  const reranker = (await engine.acquire(dirs['cross-encoder'])).model;
  const query = 'how do late interaction models rank documents';
  const docs = mixedTexts(2).map((d) => d.split(' ').slice(0, 100).join(' '));
  rows.push(['rerank (cross-encoder, 32 pairs/call)', await rate(seconds, async () => (await reranker.score(query, docs), docs.length)), 'pairs/s']);
  console.log(`# heads on MiniLM-shaped checkpoints — ${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'CPU'}, ${threads} threads, 32 mixed-length texts (${tokensPerCall} tokens) per call`);
  console.log('| head | throughput | unit | vs dense tokens/s |');
  console.log('|---|---|---|---|');
  for (const [name, value, unit] of rows) console.log(`| ${name} | ${value.toFixed(0)} | ${unit} | ${unit === 'tokens/s' ? (value / denseRate).toFixed(2) + 'x' : '-'} |`);
  engine.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
