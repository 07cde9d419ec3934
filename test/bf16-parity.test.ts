// A bf16 engine against the float64 references: dense and ColBERT vectors within cosine 0.999,
// reranker order and classifier decisions unchanged, and the fidelity gate's verdicts (SPLADE's
// term sets move under bf16, so it stays fp32 and says why; CLIP's vision tower answers probe
// images of its own, whose pixel values are checked by hand).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { Engine } from '../lib/engine/engine.js';
import { PROBE_IMAGE_COUNT, probeImagePixels } from '../lib/engine/fidelity-gate.js';
import { readClipPreprocessing } from '../lib/images/clip-preprocessor.js';
import { cosine, readJson, referenceDir, sentences } from './helpers/fixtures.js';

const nativeBf16 = nativeAddon().openBackend({ threads: 1 }).dtypes.includes('bf16');
const models = path.join(referenceDir, 'models');
const output = (name: string) => path.join(referenceDir, 'outputs', name);

t.test('without native bf16, asking for it is refused and auto stays fp32', { skip: nativeBf16 ? 'this CPU computes bf16' : false }, async (t) => {
  t.throws(() => new Engine({ threads: 1, dtype: 'bf16', progress: null }), { code: 'DEVICE_UNAVAILABLE' });
  const auto = new Engine({ threads: 1, dtype: 'auto', progress: null });
  t.teardown(() => auto.close());
  t.equal(auto.dtype, 'fp32');
});

t.test('bf16 models against the float64 references', { skip: nativeBf16 ? false : 'this CPU has no native bf16' }, async (t) => {
  const engine = new Engine({ threads: 2, dtype: 'bf16', modelsDir: models, progress: null });
  t.teardown(() => engine.close());
  const texts = sentences();
  // The BERT family, then the rotary encoders: bf16 weights and bf16 attention (sliding windows,
  // causal masks, GQA).
  for (const name of ['tiny-dense-mean', 'tiny-dense-cls', 'tiny-dense-mean-bf16', 'tiny-modernbert', 'tiny-gte-new', 'tiny-qwen3-embedding']) {
    const model = await engine.load(name);
    t.equal(model.dtype, 'bf16', `${name} passed the gate: ${model.fidelity?.detail}`);
    const reference = readJson<number[][]>(output(`${name}.dense.json`));
    const { embeddings } = await engine.embed(name, texts);
    const worst = Math.min(...embeddings.map((v, i) => cosine(v, reference[i])));
    t.ok(worst >= 0.999, `${name}: min cosine ${worst.toFixed(6)} to the float64 reference`);
  }

  const colbert = await engine.load('tiny-colbert');
  t.equal(colbert.dtype, 'bf16');
  const tokens = readJson<Array<{ ids: number[] }>>(output('sentences.tokens.json'));
  const colbertRef = readJson<number[][][]>(output('tiny-colbert.colbert.json'));
  const encoded = await engine.withModel('tiny-colbert', {}, (m) => m.encode(texts, { outputTypes: ['multivector'] }));
  let worst = 1;
  encoded.items.forEach((item, i) => {
    const mv = item.multivector!;
    t.equal(mv.numTokens, tokens[i].ids.length);
    for (let j = 0; j < mv.numTokens; j++) worst = Math.min(worst, cosine(mv.values.subarray(j * 16, (j + 1) * 16), colbertRef[i][j]));
  });
  t.ok(worst >= 0.999, `ColBERT: min per-token cosine ${worst.toFixed(6)}`);

  const reranker = await engine.load('tiny-cross-encoder');
  t.equal(reranker.dtype, 'bf16');
  const pairs = readJson<Array<[string, string]>>(path.join(referenceDir, 'pairs.json'));
  const query = pairs[0][0];
  const documents = pairs.filter((p) => p[0] === query).map((p) => p[1]);
  const logits = readJson<number[][]>(output('tiny-cross-encoder.cls-logits.json')).map((x) => x[0]).slice(0, documents.length);
  const { scores } = await engine.withModel('tiny-cross-encoder', {}, (m) => m.score(query, documents));
  const order = (xs: ArrayLike<number>) => Array.from(xs, (_, i) => i).sort((a, b) => xs[b] - xs[a]);
  t.same(order(scores), order(logits), 'reranker order identical to the reference');

  const classifier = await engine.load('tiny-classifier');
  t.equal(classifier.dtype, 'bf16');
  const classLogits = readJson<number[][]>(output('tiny-classifier.cls-logits.json'));
  const extracted = await engine.withModel('tiny-classifier', {}, (m) => m.extract(texts));
  const labels = ['negative', 'neutral', 'positive'];
  extracted.items.forEach((item, i) => {
    const best = classLogits[i].indexOf(Math.max(...classLogits[i]));
    t.equal(item.classifications[0].label, labels[best], `sentence ${i}: same top label`);
  });
});

t.test('the fidelity gate keeps SPLADE in fp32 when bf16 moves its term sets, and says why', { skip: nativeBf16 ? false : 'this CPU has no native bf16' }, async (t) => {
  const verdicts: string[] = [];
  const engine = new Engine({ threads: 2, dtype: 'bf16', modelsDir: models, progress: null, observer: { onFidelity: (model, dtype, v) => verdicts.push(`${model} ${dtype} ${v.ok} ${v.detail}`) } });
  t.teardown(() => engine.close());
  const splade = await engine.load('tiny-splade');
  t.equal(splade.dtype, 'fp32');
  t.match(splade.fidelity, { ok: false, detail: /sparse term sets differ/ });
  t.match(verdicts, [/^tiny-splade fp32 false input \d+: sparse term sets differ/]);
  // And it then answers exactly like an fp32 engine.
  const reference = readJson<Array<{ indices: number[] }>>(output('tiny-splade.splade.json'));
  const { items } = await engine.withModel('tiny-splade', {}, (m) => m.encode(sentences().slice(0, 4), { outputTypes: ['sparse'] }));
  items.forEach((item, i) => t.same(Array.from(item.sparse!.indices), reference[i].indices, `sentence ${i}: the reference's term set`));
});

t.test('fp32Attention keeps a bf16 model\'s attention in fp32: the gate\'s second try computes closer to fp32', { skip: nativeBf16 ? false : 'this CPU has no native bf16' }, async (t) => {
  const { adapterFor } = await import('../lib/families/index.js');
  const backend = nativeAddon().openBackend({ threads: 2 });
  for (const [name, fixture] of [['tiny-dense-mean', 'sentences.tokens.json'], ['tiny-modernbert', 'sentences.modernbert-tokens.json']]) {
    const tokens = readJson<Array<{ ids: number[] }>>(output(fixture));
    const ids = Int32Array.from(tokens.flatMap((s) => s.ids));
    const offsets = new Int32Array(tokens.length + 1);
    tokens.forEach((s, i) => (offsets[i + 1] = offsets[i] + s.ids.length));
    const description = adapterFor(path.join(models, name)).description;
    const run = async (extra: object) => {
      const model = await backend.loadModel({ ...description, ...extra });
      const out = await model.run(ids, new Int32Array(ids.length), offsets);
      model.dispose();
      return out.values;
    };
    const exact = await run({ dtype: 'fp32' });
    const squared = (a: Float32Array) => a.reduce((sum, v, i) => sum + (v - exact[i]) ** 2, 0);
    const [bf16, fp32Attention] = [squared(await run({ dtype: 'bf16' })), squared(await run({ dtype: 'bf16', fp32Attention: true }))];
    t.not(bf16, fp32Attention, `${name}: the flag changes the computation`);
    t.ok(fp32Attention < bf16, `${name}: fp32 attention is closer to fp32 (squared error ${fp32Attention.toExponential(2)} < ${bf16.toExponential(2)})`);
  }
});

t.test('the gate probes a vision tower with images of its own', async (t) => {
  // tiny-clip takes 64 x 64 images at shortest edge 64 with a 64 crop: the probe is not resized,
  // so each value is (byte / 255 - mean) / std in numpy's float32 steps, from the bytes by hand.
  const preprocessing = readClipPreprocessing(path.join(models, 'tiny-clip'));
  const side = 64, plane = side * side;
  const pixels = await probeImagePixels({ preprocessing, imageSize: side, tokensPerImage: 17 });
  t.equal(pixels.length, PROBE_IMAGE_COUNT * 3 * plane);
  const f = Math.fround;
  const value = (byte: number, c: number) => f(f(f(byte * (1 / 255)) - f(preprocessing.mean![c])) / f(preprocessing.std![c]));
  const at = (image: number, c: number, x: number, y: number) => pixels[(image * 3 + c) * plane + y * side + x];
  t.equal(at(0, 0, 0, 0), value(0, 0), 'ramp: black at the top left');
  t.equal(at(0, 0, 63, 5), value(Math.floor((255 * 63) / 64), 0), 'ramp: red grows along x');
  t.equal(at(0, 2, 63, 63), value(Math.floor((255 * 126) / 128), 2), 'ramp: blue along the diagonal');
  t.equal(at(1, 1, 0, 0), value(80, 1), 'checkerboard: a dark square');
  t.equal(at(1, 1, 8, 0), value(190, 1), 'checkerboard: the next square is light');
  t.not(at(2, 0, 0, 0), at(2, 0, 1, 0), 'noise');

  if (!nativeBf16) return;
  const engine = new Engine({ threads: 2, dtype: 'bf16', modelsDir: models, progress: null });
  t.teardown(() => engine.close());
  const clip = await engine.load('tiny-clip');
  t.equal(clip.dtype, 'bf16', `tiny-clip passed the gate: ${clip.fidelity?.detail}`);
  t.match(clip.fidelity?.detail ?? '', /^text: min cosine [0-9.]+ over \d+ vectors .*; images: min cosine [0-9.]+ over 3 vectors/, 'both towers were compared');
  // And the bf16 image vectors themselves against the float64 reference.
  const imageRef = readJson<Array<{ path: string; normalized: number[] }>>(output('tiny-clip.image.json'));
  const images = imageRef.map((r) => [new Uint8Array(readFileSync(path.join(referenceDir, 'images', path.basename(r.path))))]);
  const encoded = await engine.withModel('tiny-clip', {}, (m) => m.encodeImages(images));
  const worst = Math.min(...encoded.items.map((item, i) => cosine(item.dense!, imageRef[i].normalized)));
  t.ok(worst >= 0.999, `bf16 CLIP images: min cosine ${worst.toFixed(6)} to the float64 reference`);
});
