// The rotary encoders against the float64 references of ../shared (rope_reference.py,
// decoder_reference.py, each cross-checked against an independent torch port): ModernBERT
// (sliding window, two thetas), GTE NewModel (post-norm, NTK scaling), Qwen3-Embedding (GQA,
// q/k norm, causal, last token), on the shared fixtures and on seeded checkpoints of other shapes
// made here (other windows and global-layer spacing, no scaling, GQA ratios 1, 2 and 4), with
// inputs far longer than the window; through the engine, /v1/embeddings and SIE encode with
// Qwen3's query and document prompts.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Engine } from '../lib/engine/engine.js';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { cosine, readJson, referenceDir, referenceModel, sentences, tempDir, toolsDir, type ReferenceTokens } from './helpers/fixtures.js';
import { postJson, serveEngine } from './helpers/server.js';

const output = (name: string) => path.join(referenceDir, 'outputs', name);
const python = '/usr/bin/python3';

function pack(items: ReadonlyArray<{ ids: number[]; type_ids?: number[] }>) {
  const offsets = [0];
  for (const x of items) offsets.push(offsets[offsets.length - 1] + x.ids.length);
  return { ids: Int32Array.from(items.flatMap((x) => x.ids)), typeIds: Int32Array.from(items.flatMap((x) => x.type_ids ?? x.ids.map(() => 0))), offsets: Int32Array.from(offsets) };
}

async function worstAgainst(engine: Engine, model: string, tokens: ReferenceTokens[], reference: number[][]): Promise<number> {
  const lease = await engine.acquire(model);
  try {
    const out = await lease.model.runTokenBatch(pack(tokens));
    return Math.min(...reference.map((v, i) => cosine(out.values.subarray(i * out.width, (i + 1) * out.width), v)));
  } finally {
    lease.release();
  }
}

const FIXTURES = [
  { model: 'tiny-modernbert', family: 'modernbert-dense', tokens: 'sentences.modernbert-tokens.json', dense: 'tiny-modernbert.dense.json' },
  { model: 'tiny-gte-new', family: 'gte-new-dense', tokens: 'sentences.tokens512.json', dense: 'tiny-gte-new.dense.json' },
  { model: 'tiny-qwen3-embedding', family: 'qwen3-embedding', tokens: 'sentences.qwen3-tokens.json', dense: 'tiny-qwen3-embedding.dense.json' },
];

for (const fixture of FIXTURES) {
  t.test(`${fixture.model}: the reference vectors, from token ids and from text`, async (t) => {
    const engine = new Engine({ threads: 2, progress: null });
    t.teardown(() => engine.close());
    const tokens = readJson<ReferenceTokens[]>(output(fixture.tokens));
    const reference = readJson<number[][]>(output(fixture.dense));
    t.ok(Math.max(...tokens.map((x) => x.ids.length)) > 500, 'inputs of several hundred tokens, far past the sliding window');
    const worst = await worstAgainst(engine, referenceModel(fixture.model), tokens, reference);
    t.ok(worst >= 0.99999, `min cosine ${worst} over ${reference.length} inputs`);
    const lease = await engine.acquire(referenceModel(fixture.model));
    t.teardown(() => lease.release());
    t.equal(lease.model.describe().family, fixture.family);
    const batch = lease.model.tokenize(sentences());
    sentences().forEach((_, i) => t.same(Array.from(batch.ids.subarray(batch.offsets[i], batch.offsets[i + 1])), tokens[i].ids, `tokens of sentence ${i}`));
    const { items } = await lease.model.encode(sentences(), { isQuery: false });
    t.ok(Math.min(...items.map((item, i) => cosine(item.dense!, reference[i]))) >= 0.99999, 'SIE encode from text (no document prompt on these models)');
  });
}

t.test('seeded checkpoints of other shapes against the references run here', async (t) => {
  const dir = tempDir(t);
  const engine = new Engine({ threads: 2, progress: null });
  t.teardown(() => engine.close());
  const cases = [
    // ModernBERT: window 8 (sees |i - j| <= 4), a global layer every 2nd, mean pooling + Normalize, 3 heads of 32.
    { name: 'modernbert-w8', tool: 'rope_checkpoint.py', reference: 'rope_reference.py', tokens: 'sentences.modernbert-tokens.json', args: ['modernbert', '--hidden', '96', '--layers', '5', '--heads', '3', '--inter', '80', '--local-window', '8', '--global-every', '2', '--global-theta', '80000', '--local-theta', '5000', '--pooling', 'mean', '--normalize', '--seed', '51'] },
    // NewModel without rope scaling (gte-base-en-v1.5's theta) and no token-type table.
    { name: 'gte-new-plain', tool: 'rope_checkpoint.py', reference: 'rope_reference.py', tokens: 'sentences.tokens512.json', args: ['gte-new', '--hidden', '96', '--layers', '2', '--heads', '4', '--inter', '160', '--rope-theta', '500000', '--type-vocab', '0', '--max-len', '1024', '--max-seq-len', '512', '--seed', '52'] },
    // Qwen3 with GQA 4:1 and 1:1 (ratio 2 is the shared fixture).
    { name: 'qwen3-gqa4', tool: 'decoder_checkpoint.py', reference: 'decoder_reference.py', tokens: 'sentences.qwen3-tokens.json', args: ['qwen3-embedding', '--hidden', '64', '--layers', '3', '--heads', '8', '--kv-heads', '2', '--head-dim', '8', '--inter', '96', '--seed', '53'] },
    { name: 'qwen3-mha', tool: 'decoder_checkpoint.py', reference: 'decoder_reference.py', tokens: 'sentences.qwen3-tokens.json', args: ['qwen3-embedding', '--hidden', '48', '--layers', '2', '--heads', '3', '--kv-heads', '3', '--head-dim', '32', '--inter', '64', '--seed', '54'] },
    // Heads of 80 (V in three 32-column panels, the last partial): causal blocks of 64 queries read
    // a prefix of the packed keys and P·V runs panel by panel, over inputs of several hundred tokens.
    { name: 'qwen3-hd80', tool: 'decoder_checkpoint.py', reference: 'decoder_reference.py', tokens: 'sentences.qwen3-tokens.json', args: ['qwen3-embedding', '--hidden', '64', '--layers', '2', '--heads', '2', '--kv-heads', '1', '--head-dim', '80', '--inter', '96', '--seed', '55'], bf16: true },
  ];
  const bf16Engine = nativeAddon().openBackend({ threads: 1 }).dtypes.includes('bf16') ? new Engine({ threads: 2, dtype: 'bf16', progress: null }) : undefined;
  t.teardown(() => bf16Engine?.close());
  for (const c of cases) {
    const model = path.join(dir, c.name);
    const [kind, ...rest] = c.args;
    execFileSync(python, [path.join(toolsDir, c.tool), kind, model, ...rest]);
    const reference = JSON.parse(execFileSync(python, [path.join(toolsDir, c.reference), model, output(c.tokens), 'dense'], { encoding: 'utf8', maxBuffer: 1 << 26 })) as number[][];
    const worst = await worstAgainst(engine, model, readJson<ReferenceTokens[]>(output(c.tokens)), reference);
    t.ok(worst >= 0.99999, `${c.name}: min cosine ${worst}`);
    if ('bf16' in c && bf16Engine) {
      const loaded = await bf16Engine.load(model);
      t.equal(loaded.dtype, 'bf16', `${c.name} in bf16 passed the gate: ${loaded.fidelity?.detail}`);
      const worst16 = await worstAgainst(bf16Engine, model, readJson<ReferenceTokens[]>(output(c.tokens)), reference);
      t.ok(worst16 >= 0.999, `${c.name} in bf16: min cosine ${worst16}`);
    }
  }
});

t.test('Qwen3-Embedding over HTTP: query prompt by is_query, documents as given, /v1/embeddings input as given', async (t) => {
  const { baseUrl } = await serveEngine(t, { modelsDir: path.dirname(referenceModel('tiny-qwen3-embedding')) });
  const queries = readJson<number[][]>(output('tiny-qwen3-embedding.queries.dense.json'));
  const plain = readJson<number[][]>(output('tiny-qwen3-embedding.dense.json'));
  const texts = sentences().slice(0, 8);
  const json = { accept: 'application/json' };
  const vectors = (body: { items: Array<{ dense: number[] | { values: number[] } }> }) => body.items.map((i) => (Array.isArray(i.dense) ? i.dense : i.dense.values));
  const asQueries = await postJson(baseUrl, '/v1/encode/tiny-qwen3-embedding', { items: texts.map((text) => ({ text })), params: { options: { is_query: true } } }, json);
  t.equal(asQueries.status, 200);
  vectors(asQueries.body).forEach((v, i) => t.ok(cosine(v, queries[i]) >= 0.99999, `query ${i}: "Instruct: ...\\nQuery:" + text`));
  const asDocuments = await postJson(baseUrl, '/v1/encode/tiny-qwen3-embedding', { items: texts.map((text) => ({ text })) }, json);
  vectors(asDocuments.body).forEach((v, i) => t.ok(cosine(v, plain[i]) >= 0.99999, `document ${i}: the empty document prompt`));
  const queryTexts = readJson<string[]>(output('queries.qwen3-texts.json'));
  const openai = await postJson(baseUrl, '/v1/embeddings', { model: 'tiny-qwen3-embedding', input: queryTexts });
  (openai.body.data as Array<{ embedding: number[] }>).forEach((d, i) => t.ok(cosine(d.embedding, queries[i]) >= 0.99999, `OpenAI input ${i} as given`));
  const modern = await postJson(baseUrl, '/v1/embeddings', { model: 'tiny-modernbert', input: sentences().slice(0, 3) });
  const modernRef = readJson<number[][]>(output('tiny-modernbert.dense.json'));
  (modern.body.data as Array<{ embedding: number[] }>).forEach((d, i) => t.ok(cosine(d.embedding, modernRef[i]) >= 0.99999, `ModernBERT over /v1/embeddings ${i}`));
});

t.test('what the rotary families refuse is named', async (t) => {
  const dir = tempDir(t);
  const engine = new Engine({ threads: 1, progress: null });
  t.teardown(() => engine.close());
  const { cpSync, readFileSync } = await import('node:fs');
  const variant = (source: string, name: string, change: Record<string, unknown>) => {
    const target = path.join(dir, name);
    cpSync(referenceModel(source), target, { recursive: true });
    writeFileSync(path.join(target, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(path.join(target, 'config.json'), 'utf8')), ...change }));
    return target;
  };
  await t.rejects(engine.load(variant('tiny-qwen3-embedding', 'q-sliding', { use_sliding_window: true })), { code: 'BAD_CONFIG', message: /use_sliding_window is not supported/ });
  await t.rejects(engine.load(variant('tiny-gte-new', 'g-mixed', { rope_scaling: { type: 'ntk', factor: 2, mixed_b: 0.5 } })), { code: 'BAD_CONFIG', message: /rope_scaling/ });
  await t.rejects(engine.load(variant('tiny-modernbert', 'm-act', { hidden_activation: 'relu' })), { code: 'BAD_CONFIG', message: /hidden_activation 'relu'/ });
  await t.rejects(engine.load(variant('tiny-qwen3-embedding', 'q-gqa', { num_key_value_heads: 3 })), { code: /BAD_CONFIG|BAD_WEIGHTS/ });
});
