// The image benchmark's peer is only fair if it computes the same function: the ONNX export of
// CLIP's vision tower (bench/export-clip-vision-onnx.ts), run by onnxruntime-node on the shared
// reference's pixels, matches tiny-clip's float64 normalised image embeddings.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import t from 'tap';
import { exportClipVisionOnnx } from '../bench/export-clip-vision-onnx.js';
import { clipPixelValues, readClipPreprocessing } from '../lib/images/clip-preprocessor.js';
import { cosine, readJson, referenceDir, tempDir } from './helpers/fixtures.js';

t.test('the CLIP vision ONNX export matches the float64 reference under onnxruntime-node', async (t) => {
  const model = path.join(referenceDir, 'models', 'tiny-clip');
  const file = path.join(tempDir(t), 'clip-vision.onnx');
  exportClipVisionOnnx(model, file);
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
  const p = readClipPreprocessing(model);
  const pixelsRef = readJson<Array<{ rgb: number[][][] }>>(path.join(referenceDir, 'outputs', 'tiny-clip.pixels.json'));
  const imageRef = readJson<Array<{ normalized: number[] }>>(path.join(referenceDir, 'outputs', 'tiny-clip.image.json'));
  const batch = new Float32Array(pixelsRef.length * 3 * 64 * 64);
  const pixels = await Promise.all(pixelsRef.map((r) => clipPixelValues({ width: 64, height: 64, rgb: Uint8Array.from(r.rgb.flat(2)), format: 'png' }, p)));
  pixels.forEach((values, i) => batch.set(values, i * 3 * 64 * 64));
  const out = await session.run({ pixel_values: new ort.Tensor('float32', batch, [pixelsRef.length, 3, 64, 64]) });
  const embeds = out.image_embeds.data as Float32Array;
  const worst = Math.min(...imageRef.map((r, i) => cosine(embeds.subarray(i * 32, (i + 1) * 32), r.normalized)));
  t.ok(worst >= 0.99999, `16 images: min cosine ${worst.toFixed(7)}`);
});
