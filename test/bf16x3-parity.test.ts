// bf16x3 (three bf16 tile products per matrix product, activations in fp32), and bf16x3q (its
// form with 4-bit weight remainders: bf16x3q_gemm.h), held to the fp32
// parity bars against the float64 references: dense and per-token vectors cosine >= 0.99999,
// bge-m3's three outputs (sparse weights within 1e-4), reranker scores within 1e-5 of the reference logits' sigmoid, classifier decisions unchanged,
// CLIP text and images >= 0.99999. The fidelity gate holds bf16x3 to those bars: SPLADE, whose
// weights move by up to 2e-4, stays fp32 and says why. Where the CPU has no AMX, bf16x3 is refused.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { Engine } from '../lib/engine/engine.js';
import { cosine, maxAbsDiff, readJson, referenceDir, repoRoot, sentences } from './helpers/fixtures.js';

const amx = nativeAddon().openBackend({ threads: 1 }).dtypes.includes('bf16x3');
const models = path.join(referenceDir, 'models');
const output = (name: string) => path.join(referenceDir, 'outputs', name);
const FP32_BAR = 0.99999;

t.test('bf16x3 and bf16x3q are offered only with AMX, and refused below it', async (t) => {
  const detected = nativeAddon().kernels.cpuIsa.detected;
  t.equal(amx, detected === 'amx', `this CPU: ${detected}`);
  t.equal(nativeAddon().openBackend({ threads: 1 }).dtypes.includes('bf16x3q'), amx, 'bf16x3q is offered exactly where bf16x3 is');
  // Capped below AMX in a child process (the cap is read once per process), the engine refuses it.
  const script = `import('${path.join(repoRoot, 'dist', 'lib', 'engine', 'engine.js')}').then(({ Engine }) => {
    for (const dtype of ['bf16x3', 'bf16x3q']) try { new Engine({ threads: 1, dtype, progress: null }); console.log('accepted'); } catch (e) { console.log(e.code); }
  });`;
  const answer = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, SIE_CPU_ISA: 'avx512bf16' }, encoding: 'utf8' }).trim();
  t.equal(answer, 'DEVICE_UNAVAILABLE\nDEVICE_UNAVAILABLE', 'bf16x3 and bf16x3q are refused');
});

for (const dtype of ['bf16x3', 'bf16x3q'] as const)
t.test(`${dtype} models meet the fp32 bars against the float64 references`, { skip: amx ? false : 'this CPU has no AMX' }, async (t) => {
  const verdicts: string[] = [];
  // bf16x3q's 4-bit remainders keep dense vectors within fp32's cosine bar, but move reranker
  // scores (1.5e-4) and bge-m3's sparse weights (1e-3) past theirs: the gate then tries bf16x3.
  const fallback = dtype === 'bf16x3q' ? 'bf16x3' : dtype;
  const engine = new Engine({ threads: 2, dtype, modelsDir: models, progress: null, observer: { onFidelity: (model, dtype, v) => verdicts.push(`${model} ${dtype} ${v.detail}`) } });
  t.teardown(() => engine.close());
  const texts = sentences();
  for (const name of ['tiny-dense-mean', 'tiny-dense-cls', 'tiny-dense-mean-bf16', 'tiny-xlmr-dense', 'tiny-modernbert', 'tiny-gte-new', 'tiny-qwen3-embedding']) {
    const model = await engine.load(name);
    t.equal(model.dtype, dtype, `${name} passed the gate: ${model.fidelity?.detail}`);
    const reference = readJson<number[][]>(output(`${name}.dense.json`));
    const { embeddings } = await engine.embed(name, texts);
    const worst = Math.min(...embeddings.map((v, i) => cosine(v, reference[i])));
    t.ok(worst >= FP32_BAR, `${name}: min cosine ${worst.toFixed(8)} to the float64 reference`);
  }

  const colbert = await engine.load('tiny-colbert');
  t.equal(colbert.dtype, dtype);
  const colbertRef = readJson<number[][][]>(output('tiny-colbert.colbert.json'));
  const encoded = await engine.withModel('tiny-colbert', {}, (m) => m.encode(texts, { outputTypes: ['multivector'] }));
  let worst = 1;
  encoded.items.forEach((item, i) => {
    const mv = item.multivector!;
    for (let j = 0; j < mv.numTokens; j++) worst = Math.min(worst, cosine(mv.values.subarray(j * 16, (j + 1) * 16), colbertRef[i][j]));
  });
  t.ok(worst >= FP32_BAR, `ColBERT: min per-token cosine ${worst.toFixed(8)}`);

  // SPLADE: its weights are log(1 + relu(logit)) of vocabulary logits tens of units large, so
  // bf16x3's ~4e-6 relative error moves them by up to 2e-4, past fp32's 1e-4 bar (the term sets
  // stay identical). The gate checks the weights for bf16x3 and keeps SPLADE in fp32, saying why;
  // it then answers at the fp32 bar.
  const splade = await engine.load('tiny-splade');
  t.equal(splade.dtype, 'fp32', `SPLADE stays fp32 under ${dtype}`);
  t.match(splade.fidelity, { ok: false, detail: /identical sparse term sets on \d+ inputs, weights within [0-9.e-]+ \(gate 0.0001\)/ });
  const spladeRef = readJson<Array<{ indices: number[]; values: number[] }>>(output('tiny-splade.splade.json'));
  const sparse = await engine.withModel('tiny-splade', {}, (m) => m.encode(texts.slice(0, spladeRef.length), { outputTypes: ['sparse'] }));
  sparse.items.forEach((item, i) => {
    t.same(Array.from(item.sparse!.indices), spladeRef[i].indices, `sentence ${i}: the reference's term set`);
    t.ok(maxAbsDiff(item.sparse!.values, spladeRef[i].values) <= 1e-4, `sentence ${i}: weights within 1e-4`);
  });

  // bge-m3: all three outputs from one forward, at fp32's bars (sparse weights within 1e-4).
  const m3 = await engine.load('tiny-bge-m3');
  t.equal(m3.dtype, fallback, `bge-m3 passed the gate: ${m3.fidelity?.detail}`);
  if (fallback !== dtype) t.match(m3.fidelity?.detail, /kept as bf16x3 \(as bf16x3q: .*weights within [0-9.e-]+ \(gate 0.0001\)/);
  t.match(m3.fidelity?.detail, /sparse: .*weights within [0-9.e-]+ \(gate 0.0001\)/);
  const m3Ref = readJson<Array<{ dense: number[]; sparse: { indices: number[]; values: number[] }; multivector: number[][] }>>(output('tiny-bge-m3.bge-m3.json'));
  const m3Items = (await engine.withModel('tiny-bge-m3', {}, (m) => m.encode(texts, { outputTypes: ['dense', 'sparse', 'multivector'] }))).items;
  let m3Dense = 1, m3Tokens = 1, m3Weights = 0;
  m3Items.forEach((item, i) => {
    m3Dense = Math.min(m3Dense, cosine(item.dense!, m3Ref[i].dense));
    t.same(Array.from(item.sparse!.indices), m3Ref[i].sparse.indices, `bge-m3 sentence ${i}: sparse term set`);
    if (m3Ref[i].sparse.values.length > 0) m3Weights = Math.max(m3Weights, maxAbsDiff(item.sparse!.values, m3Ref[i].sparse.values));
    const mv = item.multivector!;
    t.equal(mv.numTokens, m3Ref[i].multivector.length, `bge-m3 sentence ${i}: one vector per token after <s>`);
    m3Ref[i].multivector.forEach((v, r) => (m3Tokens = Math.min(m3Tokens, cosine(mv.values.subarray(r * mv.tokenDims, (r + 1) * mv.tokenDims), v))));
  });
  t.ok(m3Dense >= FP32_BAR, `bge-m3 dense: min cosine ${m3Dense.toFixed(8)}`);
  t.ok(m3Weights <= 1e-4, `bge-m3 sparse weights within ${m3Weights.toExponential(2)}`);
  t.ok(m3Tokens >= FP32_BAR, `bge-m3 multivector: min per-token cosine ${m3Tokens.toFixed(8)}`);

  const reranker = await engine.load('tiny-cross-encoder');
  t.equal(reranker.dtype, fallback, `reranker: ${reranker.fidelity?.detail}`);
  if (fallback !== dtype) t.match(reranker.fidelity?.detail, /kept as bf16x3 \(as bf16x3q: identical order of \d+ candidates, scores within [0-9.e-]+ \(gate 0.00001\)\)/);
  const pairs = readJson<Array<[string, string]>>(path.join(referenceDir, 'pairs.json'));
  const query = pairs[0][0];
  const documents = pairs.filter((p) => p[0] === query).map((p) => p[1]);
  const logits = readJson<number[][]>(output('tiny-cross-encoder.cls-logits.json')).map((x) => x[0]);
  const { scores } = await engine.withModel('tiny-cross-encoder', {}, (m) => m.score(query, documents));
  scores.forEach((score, i) => t.ok(Math.abs(score - 1 / (1 + Math.exp(-logits[i]))) <= 1e-5, `pair ${i}: score within 1e-5 of the reference`));

  const classifier = await engine.load('tiny-classifier');
  t.equal(classifier.dtype, dtype);
  const classLogits = readJson<number[][]>(output('tiny-classifier.cls-logits.json'));
  const extracted = await engine.withModel('tiny-classifier', {}, (m) => m.extract(texts));
  const labels = ['negative', 'neutral', 'positive'];
  extracted.items.forEach((item, i) => t.equal(item.classifications[0].label, labels[classLogits[i].indexOf(Math.max(...classLogits[i]))], `sentence ${i}: same top label`));

  // CLIP: both towers' products in bf16x3.
  const clip = await engine.load('tiny-clip');
  t.equal(clip.dtype, dtype);
  const clipTexts = readJson<string[]>(path.join(referenceDir, 'clip-texts.json'));
  const textRef = readJson<Array<{ normalized: number[] }>>(output('tiny-clip.text.json'));
  const clipText = await engine.embed('tiny-clip', clipTexts);
  t.ok(Math.min(...clipText.embeddings.map((v, i) => cosine(v, textRef[i].normalized))) >= FP32_BAR, 'CLIP texts');
  const imageRef = readJson<Array<{ path: string; normalized: number[] }>>(output('tiny-clip.image.json'));
  const images = imageRef.map((r) => [new Uint8Array(readFileSync(path.join(referenceDir, 'images', path.basename(r.path))))]);
  const encodedImages = await engine.withModel('tiny-clip', {}, (m) => m.encodeImages(images));
  const worstImage = Math.min(...encodedImages.items.map((item, i) => cosine(item.dense!, imageRef[i].normalized)));
  t.ok(worstImage >= FP32_BAR, `CLIP images: min cosine ${worstImage.toFixed(8)}`);

  const expectedDtype = (model: string) => (model === 'tiny-splade' ? 'fp32' : ['tiny-bge-m3', 'tiny-cross-encoder'].includes(model) ? fallback : dtype);
  for (const v of verdicts) t.equal(v.split(' ')[1], expectedDtype(v.split(' ')[0]), `gate verdict: ${v}`);
});
