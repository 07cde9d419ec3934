// The XLM-RoBERTa family against ../shared/reference (float64 numpy, made by ref_forward.py and the
// Rust tokenizer): multilingual dense embeddings, the XLM-R reranker, and bge-m3's three outputs
// from one forward, for safetensors and pytorch_model.bin alike. Plus inputs near bge-m3's 8192
// token limit against the same reference run here, with the attention scratch bounded.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { Engine } from '../lib/engine/engine.js';
import type { EncodedItem } from '../lib/engine/loaded-model.js';
import { cosine, maxAbsDiff, readJson, referenceDir, referenceModel, repoRoot, sentences, tempDir, type ReferenceTokens } from './helpers/fixtures.js';

const output = (name: string) => path.join(referenceDir, 'outputs', name);
const venvPython = path.join(repoRoot, '.venv-peers', 'bin', 'python');

interface BgeM3Reference {
  dense: number[];
  sparse: { indices: number[]; values: number[] };
  multivector: number[][];
}

function pack(items: ReadonlyArray<{ ids: number[] }>) {
  const offsets = [0];
  for (const x of items) offsets.push(offsets[offsets.length - 1] + x.ids.length);
  return { ids: Int32Array.from(items.flatMap((x) => x.ids)), typeIds: new Int32Array(offsets[offsets.length - 1]), offsets: Int32Array.from(offsets) };
}

/** bge-m3 outputs against the reference: dense and per-token cosine >= 0.99999, identical sparse term sets with weights within 1e-4. */
function checkBgeM3(t: Test, items: EncodedItem[], reference: BgeM3Reference[], label: string) {
  t.equal(items.length, reference.length, `${label}: one item per input`);
  let worstDense = 1, worstToken = 1, worstWeight = 0;
  items.forEach((item, i) => {
    const ref = reference[i];
    worstDense = Math.min(worstDense, cosine(item.dense!, ref.dense));
    const mv = item.multivector!;
    t.equal(mv.numTokens, ref.multivector.length, `${label} ${i}: one vector per token after <s>`);
    ref.multivector.forEach((v, r) => (worstToken = Math.min(worstToken, cosine(mv.values.subarray(r * mv.tokenDims, (r + 1) * mv.tokenDims), v))));
    const ours = new Map(Array.from(item.sparse!.indices, (id, j) => [id, item.sparse!.values[j]]));
    t.same([...ours.keys()].sort((a, b) => a - b), [...ref.sparse.indices].sort((a, b) => a - b), `${label} ${i}: sparse term set`);
    ref.sparse.indices.forEach((id, j) => (worstWeight = Math.max(worstWeight, Math.abs((ours.get(id) ?? Infinity) - ref.sparse.values[j]))));
  });
  t.ok(worstDense >= 0.99999, `${label}: dense min cosine ${worstDense}`);
  t.ok(worstToken >= 0.99999, `${label}: multivector min per-token cosine ${worstToken}`);
  t.ok(worstWeight <= 1e-4, `${label}: sparse max |diff| ${worstWeight}`);
}

t.test('XLM-R tokenization equals the Rust tokenizer (Unigram, Metaspace, <s> </s>, pair template <s> A </s></s> B </s>)', async (t) => {
  const engine = new Engine({ threads: 1, progress: null });
  t.teardown(() => engine.close());
  const dense = await engine.acquire(referenceModel('tiny-xlmr-dense'));
  t.teardown(() => dense.release());
  const texts = sentences();
  for (const [lease, file] of [[dense, 'sentences.xlmr-tokens.json']] as const) {
    const reference = readJson<ReferenceTokens[]>(output(file));
    const batch = lease.model.tokenize(texts);
    texts.forEach((_, i) => t.same(Array.from(batch.ids.subarray(batch.offsets[i], batch.offsets[i + 1])), reference[i].ids, `${file} ${i}`));
  }
  const rerank = await engine.acquire(referenceModel('tiny-xlmr-rerank'));
  t.teardown(() => rerank.release());
  const pairs = readJson<Array<[string, string]>>(path.join(referenceDir, 'pairs.json'));
  const reference = readJson<ReferenceTokens[]>(output('pairs.xlmr-tokens.json'));
  const batch = rerank.model.tokenizePairs(pairs);
  pairs.forEach((_, i) => t.same(Array.from(batch.ids.subarray(batch.offsets[i], batch.offsets[i + 1])), reference[i].ids, `pair ${i}`));
});

t.test('multilingual dense (XLMRobertaModel + CLS + Normalize): cosine >= 0.99999 from raw text', async (t) => {
  const engine = new Engine({ threads: 2, progress: null });
  t.teardown(() => engine.close());
  const lease = await engine.acquire(referenceModel('tiny-xlmr-dense'));
  t.teardown(() => lease.release());
  t.equal(lease.model.describe().family, 'xlm-roberta-dense');
  const reference = readJson<number[][]>(output('tiny-xlmr-dense.dense.json'));
  const { items } = await lease.model.encode(sentences());
  let worst = 1;
  items.forEach((item, i) => (worst = Math.min(worst, cosine(item.dense!, reference[i]))));
  t.ok(worst >= 0.99999, `min cosine ${worst}`);
  // OpenAI's path gives the same vectors.
  const { embeddings } = await lease.model.embed(sentences().slice(0, 4));
  embeddings.forEach((e, i) => t.ok(cosine(e, reference[i]) >= 0.99999, `embed ${i}`));
});

t.test('XLM-R reranker (XLMRobertaForSequenceClassification): logits within 1e-4, scores are their sigmoid', async (t) => {
  const engine = new Engine({ threads: 2, progress: null });
  t.teardown(() => engine.close());
  const lease = await engine.acquire(referenceModel('tiny-xlmr-rerank'));
  t.teardown(() => lease.release());
  t.equal(lease.model.describe().family, 'xlm-roberta-cross-encoder');
  const logits = readJson<number[][]>(output('tiny-xlmr-rerank.xlmr-logits.json')).map((x) => x[0]);
  const out = await lease.model.runTokenBatch(pack(readJson<ReferenceTokens[]>(output('pairs.xlmr-tokens.json'))));
  t.ok(maxAbsDiff(out.values, logits) <= 1e-4, `logits max |diff| ${maxAbsDiff(out.values, logits)}`);
  const pairs = readJson<Array<[string, string]>>(path.join(referenceDir, 'pairs.json'));
  const query = pairs[0][0];
  const documents = pairs.filter((p) => p[0] === query).map((p) => p[1]);
  const { scores } = await lease.model.score(query, documents);
  scores.forEach((score, i) => t.ok(Math.abs(score - 1 / (1 + Math.exp(-logits[i]))) <= 1e-5, `pair ${i}: sigmoid of the logit`));
});

for (const model of ['tiny-bge-m3', 'tiny-bge-m3-bin']) {
  t.test(`bge-m3 (${model}): dense, sparse and multivector from one call equal the reference`, async (t) => {
    const engine = new Engine({ threads: 2, progress: null });
    t.teardown(() => engine.close());
    const lease = await engine.acquire(referenceModel(model));
    t.teardown(() => lease.release());
    const described = lease.model.describe();
    t.equal(described.family, 'bge-m3');
    t.same(described.outputs, ['dense', 'sparse', 'multivector']);
    t.same(described.dims, { dense: 64, sparse: 8003, multivector: 64 });
    t.equal(described.maxSeqLength, 8192, '8194 positions less pad_token_id + 1');
    const reference = readJson<BgeM3Reference[]>(output(`${model}.bge-m3.json`));
    const { items } = await lease.model.encode(sentences(), { outputTypes: ['dense', 'sparse', 'multivector'] });
    checkBgeM3(t, items, reference, model);
    // Sparse indices in SIE's order: first occurrence in the text.
    t.same(Array.from(items[1].sparse!.indices), reference[1].sparse.indices, 'sparse order of first occurrence');

    // Only what is asked for is computed: the native head returns just the requested parts.
    const batch = lease.model.tokenize(sentences().slice(0, 3));
    for (const wanted of [['dense'], ['sparse'], ['multivector'], ['dense', 'sparse']] as const) {
      const raw = await lease.model.native.run(batch.ids, batch.typeIds, batch.offsets, wanted);
      t.same(Object.keys(raw.parts ?? {}).sort(), [...wanted].sort(), `native computes only ${wanted.join('+')}`);
      const { items: subset } = await lease.model.encode(sentences().slice(0, 3), { outputTypes: [...wanted] });
      t.same(Object.keys(subset[0]).sort(), [...wanted].sort(), `encode answers only ${wanted.join('+')}`);
    }
    // OpenAI-style embed gives bge-m3's dense vector.
    const { embeddings } = await lease.model.embed(sentences().slice(0, 2));
    embeddings.forEach((e, i) => t.ok(cosine(e, reference[i].dense) >= 0.99999, `embed ${i} is the dense output`));

    // Dense alone reads only each sequence's first (CLS) row, so the last layer runs past
    // attention for those rows alone. Per row that is the same arithmetic: the vectors equal the
    // dense part of an all-outputs run exactly, whatever the batch's lengths (one-token sequences
    // and a batch of them only, where nothing is cut, included).
    const full = pack(sentences().map((text) => ({ ids: Array.from(lease.model.tokenize([text]).ids) })));
    const one = { ids: [full.ids[0]] };
    for (const [label, items] of [
      ['all shared sentences', sentences().map((text) => ({ ids: Array.from(lease.model.tokenize([text]).ids) }))],
      ['a one-token sequence between longer ones', [{ ids: Array.from(full.ids.subarray(0, full.offsets[1])) }, one, { ids: Array.from(full.ids.subarray(full.offsets[1], full.offsets[2])) }]],
      ['one-token sequences only', [one, one, one]],
    ] as const) {
      const batch = pack(items);
      const cut = await lease.model.native.run(batch.ids, batch.typeIds, batch.offsets, ['dense']);
      const whole = await lease.model.native.run(batch.ids, batch.typeIds, batch.offsets, ['dense', 'sparse', 'multivector']);
      t.same(Array.from(cut.parts!.dense!.values), Array.from(whole.parts!.dense!.values), `${label}: dense alone equals dense among all outputs, bit for bit`);
    }
    // The same in bf16, through both of its attention paths: bf16 attention reading the bf16
    // projections in place (this model's heads are 32 wide), and attention kept in fp32.
    const backend = nativeAddon().openBackend({ threads: 2 });
    if (backend.dtypes.includes('bf16')) {
      const batch = pack(sentences().map((text) => ({ ids: Array.from(lease.model.tokenize([text]).ids) })));
      for (const fp32Attention of [false, true]) {
        const model16 = await backend.loadModel({ ...lease.model.adapter.description, dtype: 'bf16', fp32Attention });
        try {
          const cut = await model16.run(batch.ids, batch.typeIds, batch.offsets, ['dense']);
          const whole = await model16.run(batch.ids, batch.typeIds, batch.offsets, ['dense', 'sparse', 'multivector']);
          t.same(Array.from(cut.parts!.dense!.values), Array.from(whole.parts!.dense!.values), `bf16${fp32Attention ? ', attention in fp32' : ''}: dense alone equals dense among all outputs, bit for bit`);
        } finally {
          model16.dispose();
        }
      }
    }
  });
}

t.test('bge-m3 at its 8192-token limit: equal to the float64 reference, attention scratch bounded', { skip: existsSync(venvPython) ? false : 'needs .venv-peers (torch reads the .pt heads in ref_forward.py)' }, async (t) => {
  const dir = tempDir(t);
  const base = readJson<ReferenceTokens[]>(output('sentences.xlmr-tokens8192.json'));
  const content = base.flatMap((s) => s.ids.slice(1, -1));
  const long = [0, ...Array.from({ length: 8190 }, (_, i) => content[i % content.length]), 2];
  const short = base[3].ids;
  const inputs = [long, short].map((ids) => ({ ids, type_ids: ids.map(() => 0) }));
  writeFileSync(path.join(dir, 'inputs.json'), JSON.stringify(inputs));
  const reference = JSON.parse(execFileSync(venvPython, [path.join(referenceDir, '..', 'tools', 'ref_forward.py'), referenceModel('tiny-bge-m3'), path.join(dir, 'inputs.json'), 'bge-m3'], { encoding: 'utf8', maxBuffer: 1 << 28 })) as BgeM3Reference[];

  const engine = new Engine({ threads: 2, progress: null });
  t.teardown(() => engine.close());
  const lease = await engine.acquire(referenceModel('tiny-bge-m3'));
  t.teardown(() => lease.release());
  const packed = pack(inputs);
  const raw = await lease.model.native.run(packed.ids, packed.typeIds, packed.offsets);
  const dense = raw.parts!.dense!;
  t.ok(cosine(dense.values.subarray(0, 64), reference[0].dense) >= 0.99999, `8192 tokens: dense cosine ${cosine(dense.values.subarray(0, 64), reference[0].dense)}`);
  t.ok(cosine(dense.values.subarray(64, 128), reference[1].dense) >= 0.99999, 'the short input beside it');
  const mv = raw.parts!.multivector!;
  t.equal(mv.rowOffsets![1], 8191, 'multivector: 8191 rows for 8192 tokens');
  let worst = 1;
  for (let r = 0; r < 8191; r += 97) worst = Math.min(worst, cosine(mv.values.subarray(r * 64, (r + 1) * 64), reference[0].multivector[r]));
  t.ok(worst >= 0.99999, `multivector min cosine ${worst} (every 97th token)`);
  // A full score matrix would be 8192 x 8192 floats (256 MiB) per worker; blocks keep it to a few MiB.
  const workspace = lease.model.native.info.workspaceBytes ?? Infinity;
  t.ok(workspace < 64 * 2 ** 20, `workspace ${(workspace / 2 ** 20).toFixed(1)} MiB after an 8192-token batch`);
  // One more token is refused, not truncated silently, when truncation is off.
  await t.rejects(lease.model.encode(['x '.repeat(9000)], { truncate: false }), { code: 'INPUT_TOO_LONG' });
});

t.test('multilingual-e5-shaped (mean pooling + Normalize), another shape and seed: cosine >= 0.99999', async (t) => {
  const dir = path.join(tempDir(t), 'e5-shaped');
  const tools = path.join(referenceDir, '..', 'tools');
  execFileSync('/usr/bin/python3', [path.join(tools, 'make_checkpoint.py'), 'xlmr-dense', dir, '--hidden', '96', '--layers', '3', '--heads', '3', '--inter', '192', '--pooling', 'mean', '--max-len', '256', '--seed', '41']);
  // The sentences that fit in 256 tokens, as the Rust tokenizer cut them at 512.
  const tokens = readJson<ReferenceTokens[]>(output('sentences.xlmr-tokens.json'));
  const fits = sentences().map((text, i) => ({ text, i })).filter(({ i }) => tokens[i].ids.length <= 256);
  const inputs = path.join(path.dirname(dir), 'inputs.json');
  writeFileSync(inputs, JSON.stringify(fits.map(({ i }) => tokens[i])));
  const reference = JSON.parse(execFileSync('/usr/bin/python3', [path.join(tools, 'ref_forward.py'), dir, inputs, 'dense'], { encoding: 'utf8', maxBuffer: 1 << 26 })) as number[][];
  const engine = new Engine({ threads: 2, progress: null });
  t.teardown(() => engine.close());
  const lease = await engine.acquire(dir);
  t.teardown(() => lease.release());
  t.equal(lease.model.describe().maxSeqLength, 256);
  const { items } = await lease.model.encode(fits.map((f) => f.text));
  const worst = Math.min(...items.map((item, j) => cosine(item.dense!, reference[j])));
  t.ok(fits.length >= 30 && worst >= 0.99999, `${fits.length} sentences, min cosine ${worst}`);
});
