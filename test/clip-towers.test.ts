// CLIP's two towers in the native engine against ../shared/reference's float64 outputs for
// tiny-clip (CLIPModel layout, seeded): text embeddings (projected, before normalisation, pooled
// at the legacy argmax position) and image embeddings, from the reference's own pixels and end
// to end from the image files through decode, Pillow-exact resize and normalisation. Through the
// backend seam (loadModel, run, runImages). The family, routes and scheduler come next (issue 12).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { nativeAddon, type NativeModelDescription } from '../lib/bindings/native-addon.js';
import { clipPixelValues, readClipPreprocessing } from '../lib/images/clip-preprocessor.js';
import { decodeImage } from '../lib/images/decode-image.js';
import { cosine, maxAbsDiff, referenceDir } from './helpers/fixtures.js';

const model = path.join(referenceDir, 'models', 'tiny-clip');
const output = (name: string) => JSON.parse(readFileSync(path.join(referenceDir, 'outputs', name), 'utf8'));
const description: NativeModelDescription = {
  architecture: 'clip',
  weightsPath: path.join(model, 'model.safetensors'),
  encoder: { hiddenSize: 64, numLayers: 2, numHeads: 2, intermediateSize: 256, vocabSize: 49408, maxPositions: 77, typeVocabSize: 1, layerNormEps: 1e-5, hiddenAct: 'quick_gelu' },
  head: { kind: 'clip-text', outputSize: 32, normalize: false },
  vision: { hiddenSize: 64, numLayers: 2, numHeads: 2, intermediateSize: 256, imageSize: 64, patchSize: 16, layerNormEps: 1e-5, hiddenAct: 'quick_gelu' },
};

t.test('CLIP text and image embeddings against the float64 reference', async (t) => {
  const backend = nativeAddon().openBackend({ device: 'cpu', threads: 2 });
  const clip = await backend.loadModel(description);
  t.teardown(() => clip.dispose());

  const tokens = output('clip-texts.tokens.json') as Array<{ ids: number[] }>;
  const textRef = output('tiny-clip.text.json') as Array<{ embedding: number[]; pooled_index: number }>;
  const ids = Int32Array.from(tokens.flatMap((s) => s.ids));
  const offsets = Int32Array.from([0, ...tokens.map((_, i) => tokens.slice(0, i + 1).reduce((n, s) => n + s.ids.length, 0))]);
  const text = await clip.run(ids, new Int32Array(ids.length), offsets);
  t.equal(text.width, 32);
  textRef.forEach((r, i) => {
    const got = text.values.subarray(i * 32, (i + 1) * 32);
    t.ok(cosine(got, r.embedding) >= 0.99999 && maxAbsDiff(got, r.embedding) < 1e-4,
      `text ${i} (${tokens[i].ids.length} tokens, pooled at ${r.pooled_index}): cosine ${cosine(got, r.embedding).toFixed(7)}`);
  });

  const p = readClipPreprocessing(model);
  const imageRef = output('tiny-clip.image.json') as Array<{ path: string; embedding: number[] }>;
  const pixelsRef = output('tiny-clip.pixels.json') as Array<{ rgb: number[][][] }>;
  // From the reference's own pixels: the vision tower alone.
  const fromPixels = await Promise.all(pixelsRef.map((r) => clipPixelValues({ width: 64, height: 64, rgb: Uint8Array.from(r.rgb.flat(2)), format: 'png' }, p)));
  const batch = new Float32Array(fromPixels.length * 3 * 64 * 64);
  fromPixels.forEach((v, i) => batch.set(v, i * v.length));
  const images = await clip.runImages(batch, fromPixels.length, 64, 64);
  let worst = 1;
  imageRef.forEach((r, i) => (worst = Math.min(worst, cosine(images.values.subarray(i * 32, (i + 1) * 32), r.embedding))));
  t.ok(worst >= 0.99999, `16 images from the reference pixels: min cosine ${worst.toFixed(7)}`);

  // End to end from the files: decode, resize, crop, normalise, one image per call.
  worst = 1;
  for (const [i, r] of imageRef.entries()) {
    const file = path.join(referenceDir, r.path.startsWith('images/') ? r.path : path.join('images', path.basename(r.path)));
    const pixels = await clipPixelValues(await decodeImage(readFileSync(file)), p);
    const one = await clip.runImages(pixels, 1, 64, 64);
    worst = Math.min(worst, cosine(one.values, r.embedding));
  }
  t.ok(worst >= 0.99999, `16 image files end to end: min cosine ${worst.toFixed(7)}`);

  await t.rejects(clip.runImages(new Float32Array(3 * 32 * 32), 1, 32, 32), { code: 'INVALID_INPUT', message: /3 x 64 x 64/ });
  t.throws(() => clip.runImages(new Float32Array(5), 1, 64, 64), { code: 'INVALID_ARGUMENT' });
  const bert = await backend.loadModel({ architecture: 'bert', weightsPath: path.join(referenceDir, 'models', 'tiny-dense-mean', 'model.safetensors'),
    encoder: { hiddenSize: 64, numLayers: 2, numHeads: 2, intermediateSize: 256, vocabSize: 30522, maxPositions: 512, typeVocabSize: 2, layerNormEps: 1e-12 },
    head: { kind: 'pooled', pooling: 'mean', normalize: true } });
  t.teardown(() => bert.dispose());
  await t.rejects(bert.runImages(batch.subarray(0, 3 * 64 * 64), 1, 64, 64), { code: 'INVALID_INPUT', message: /takes no images/ });
});
