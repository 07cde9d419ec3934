// Every head against ../shared/reference (float64 numpy), fed the reference token ids exactly.
import path from 'node:path';
import t from 'tap';
import { Engine } from '../lib/engine/engine.js';
import type { NativeRunOutput } from '../lib/bindings/native-addon.js';
import { TextTokenizer } from '../lib/engine/tokenization/text-tokenizer.js';
import { cosine, maxAbsDiff, readJson, referenceDir, referenceModel, sentences, sentenceTokens, type ReferenceTokens } from './helpers/fixtures.js';

function packTokens(items: ReferenceTokens[]): [Int32Array, Int32Array, Int32Array] {
  const ids = items.flatMap((x) => x.ids);
  const types = items.flatMap((x) => x.type_ids);
  const offsets = [0];
  for (const x of items) offsets.push(offsets[offsets.length - 1] + x.ids.length);
  return [Int32Array.from(ids), Int32Array.from(types), Int32Array.from(offsets)];
}

async function runReference(name: string, tokens: ReferenceTokens[]): Promise<NativeRunOutput> {
  const engine = new Engine({ threads: 1, progress: null });
  const lease = await engine.acquire(referenceModel(name));
  try {
    const [ids, typeIds, offsets] = packTokens(tokens);
    return await lease.model.runTokenBatch({ ids, typeIds, offsets });
  } finally {
    lease.release();
    engine.close();
  }
}

const output = (name: string) => path.join(referenceDir, 'outputs', name);

t.test('SPLADE: identical index sets and values within 1e-4', async (t) => {
  const reference = readJson<Array<{ indices: number[]; values: number[] }>>(output('tiny-splade.splade.json'));
  const out = await runReference('tiny-splade', sentenceTokens('sentences.tokens512.json'));
  reference.forEach((ref, i) => {
    const [a, b] = [out.rowOffsets![i], out.rowOffsets![i + 1]];
    t.same(Array.from(out.indices!.subarray(a, b)), ref.indices, `sentence ${i}: index set`);
    t.ok(maxAbsDiff(out.values.subarray(a, b), ref.values) <= 1e-4, `sentence ${i}: values`);
  });
});

t.test('ColBERT: per-token cosine >= 0.99999', async (t) => {
  const reference = readJson<number[][][]>(output('tiny-colbert.colbert.json'));
  const tokens = sentenceTokens();
  const out = await runReference('tiny-colbert', tokens);
  let row = 0, worst = 1;
  reference.forEach((seq, i) => {
    t.equal(seq.length, tokens[i].ids.length);
    for (const vector of seq) worst = Math.min(worst, cosine(out.values.subarray(row * 16, ++row * 16), vector));
  });
  t.equal(row * 16, out.values.length, 'one 16-dim vector per token');
  t.ok(worst >= 0.99999, `min cosine ${worst}`);
});

t.test('cross-encoder: logits within 1e-4 and identical ranking', async (t) => {
  const reference = readJson<number[][]>(output('tiny-cross-encoder.cls-logits.json')).map((x) => x[0]);
  const pairsTokens = readJson<ReferenceTokens[]>(output('pairs.tokens.json'));
  const out = await runReference('tiny-cross-encoder', pairsTokens);
  t.ok(maxAbsDiff(out.values, reference) <= 1e-4, 'logits');
  const rank = (xs: ArrayLike<number>) => Array.from(xs, (_, i) => i).sort((a, b) => xs[b] - xs[a]);
  t.same(rank(out.values), rank(reference), 'ranking');
});

t.test('our pair tokenization equals the Rust tokenizer on the reference pairs, and scores follow the reference logits', async (t) => {
  const pairs = readJson<Array<[string, string]>>(path.join(referenceDir, 'pairs.json'));
  const reference = readJson<ReferenceTokens[]>(output('pairs.tokens.json'));
  t.equal(reference.length, pairs.length);
  const engine = new Engine({ threads: 1, progress: null });
  t.teardown(() => engine.close());
  const lease = await engine.acquire(referenceModel('tiny-cross-encoder'));
  t.teardown(() => lease.release());
  const batch = lease.model.tokenizePairs(pairs);
  pairs.forEach((_, i) => {
    const [a, b] = [batch.offsets[i], batch.offsets[i + 1]];
    t.same(Array.from(batch.ids.subarray(a, b)), reference[i].ids, `pair ${i}: ids`);
    t.same(Array.from(batch.typeIds.subarray(a, b)), reference[i].type_ids, `pair ${i}: type ids`);
  });
  // Through the whole score path: sigmoid of the reference logit, pair by pair.
  const query = pairs[0][0];
  const documents = pairs.filter((p) => p[0] === query).map((p) => p[1]);
  const logits = readJson<number[][]>(output('tiny-cross-encoder.cls-logits.json')).map((x) => x[0]);
  const { scores } = await lease.model.score(query, documents);
  t.equal(scores.length, documents.length);
  scores.forEach((score, i) => t.ok(Math.abs(score - 1 / (1 + Math.exp(-logits[i]))) <= 1e-5, `pair ${i}: score`));
});

t.test('sequence classifier: logits within 1e-4', async (t) => {
  const reference = readJson<number[][]>(output('tiny-classifier.cls-logits.json'));
  const out = await runReference('tiny-classifier', sentenceTokens('sentences.tokens512.json'));
  t.ok(maxAbsDiff(out.values, reference.flat()) <= 1e-4);
});

t.test('token classifier: per-token logits within 1e-4', async (t) => {
  const reference = readJson<number[][][]>(output('tiny-token-classifier.token-logits.json'));
  const out = await runReference('tiny-token-classifier', sentenceTokens('sentences.tokens512.json'));
  t.ok(maxAbsDiff(out.values, reference.flat(2)) <= 1e-4);
});

t.test('character spans of tokens equal the Rust tokenizer offsets', async (t) => {
  const tokenizer = new TextTokenizer(referenceModel('tiny-token-classifier'));
  const texts = sentences();
  const reference = readJson<ReferenceTokens[]>(output('sentences.tokens512.json'));
  texts.forEach((text, i) => {
    // The reference stops at 512 tokens ([CLS] + 510 + [SEP]); shorter sentences must match whole.
    const expected = reference[i].offsets.slice(1, -1);
    const spans = tokenizer.contentTokens(text).spans;
    const truncated = expected.length === 510;
    t.same(truncated ? spans.slice(0, expected.length) : spans, expected, `sentence ${i}: ${JSON.stringify(text).slice(0, 40)}`);
    if (truncated) t.ok(spans.length > expected.length, `sentence ${i} is longer than the reference window`);
  });
});
