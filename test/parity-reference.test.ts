// Parity with ../shared/reference: float64 numpy forward passes and the Rust tokenizer's ids.
import path from 'node:path';
import t from 'tap';
import { Engine } from '../lib/engine/engine.js';
import { TextTokenizer } from '../lib/engine/tokenization/text-tokenizer.js';
import { cosine, maxAbsDiff, readJson, referenceDir, referenceModel, sentences, sentenceTokens } from './helpers/fixtures.js';

const engine = new Engine({ threads: 2, progress: null });
t.teardown(() => engine.close());

t.test('token ids equal the Rust tokenizer ids, with max_seq_length 256 winning over tokenizer.json', async (t) => {
  const tokenizer = new TextTokenizer(referenceModel('tiny-dense-mean'));
  const texts = sentences();
  for (const [file, maxLength] of [['sentences.tokens.json', 256], ['sentences.tokens512.json', 512]] as const) {
    const reference = sentenceTokens(file);
    const { batch } = tokenizer.batch(texts, { truncate: true, maxLength });
    texts.forEach((_, i) => {
      const ids = Array.from(batch.ids.subarray(batch.offsets[i], batch.offsets[i + 1]));
      t.same(ids, reference[i].ids, `${file} sentence ${i}`);
    });
  }
  const longest = Math.max(...sentenceTokens().map((r) => r.ids.length));
  t.equal(longest, 256, 'the reference set includes a sentence truncated at 256, not at the tokenizer file\'s 128');
});

for (const name of ['tiny-dense-mean', 'tiny-dense-mean-f16', 'tiny-dense-mean-bf16', 'tiny-dense-cls']) {
  t.test(`${name}: every sentence's embedding matches the float64 reference`, async (t) => {
    const reference = readJson<number[][]>(path.join(referenceDir, 'outputs', `${name}.dense.json`));
    const { embeddings } = await engine.embed(referenceModel(name), sentences());
    t.equal(embeddings.length, reference.length);
    let worstCos = 1, worstDiff = 0;
    embeddings.forEach((v, i) => {
      worstCos = Math.min(worstCos, cosine(v, reference[i]));
      worstDiff = Math.max(worstDiff, maxAbsDiff(v, reference[i]));
    });
    t.ok(worstCos >= 0.99999, `min cosine ${worstCos}`);
    t.ok(worstDiff <= 1e-4, `max |diff| ${worstDiff.toExponential(2)}`);
  });
}

t.test('one sentence alone and inside a batch give the same vector (no cross-talk in padding-free batches)', async (t) => {
  const texts = sentences();
  const batch = await engine.embed(referenceModel('tiny-dense-mean'), texts);
  const alone = await engine.embed(referenceModel('tiny-dense-mean'), [texts[7]]);
  t.ok(maxAbsDiff(alone.embeddings[0], batch.embeddings[7]) <= 1e-6);
});

t.test('token-budget splitting gives the same vectors as one batch', async (t) => {
  const small = new Engine({ threads: 2, maxBatchTokens: 40, progress: null });
  t.teardown(() => small.close());
  const texts = sentences();
  const whole = await engine.embed(referenceModel('tiny-dense-mean'), texts);
  const split = await small.embed(referenceModel('tiny-dense-mean'), texts);
  split.embeddings.forEach((v, i) => t.ok(maxAbsDiff(v, whole.embeddings[i]) <= 1e-6, `sentence ${i}`));
});

t.test('a large request is tokenized on a worker thread and gives the same vectors', async (t) => {
  const texts = sentences();
  const many = Array.from({ length: 20 }, () => texts).flat();
  t.ok(many.reduce((n, s) => n + s.length, 0) > 16384, 'large enough for the worker path');
  const reference = readJson<number[][]>(path.join(referenceDir, 'outputs', 'tiny-dense-mean.dense.json'));
  const { embeddings, tokenCounts } = await engine.embed(referenceModel('tiny-dense-mean'), many);
  const expectedCounts = sentenceTokens().map((r) => r.ids.length);
  embeddings.forEach((v, i) => {
    if (cosine(v, reference[i % texts.length]) < 0.99999) t.fail(`item ${i}`);
  });
  t.same(tokenCounts, Array.from({ length: 20 }, () => expectedCounts).flat(), 'token counts equal the Rust tokenizer');
});
