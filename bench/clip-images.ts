/**
 * CLIP images per second on a ViT-B/32-shaped checkpoint (real sizes, seeded weights), end to end
 * from image files to normalised embeddings, against onnxruntime-node on a standard-op export of
 * the same vision tower (bench/export-clip-vision-onnx.ts), same threads, one run. Both sides get
 * the same decoded and preprocessed pixels (sharp + the Pillow-exact resize): the time is split
 * into decode, preprocess and forward, and "end to end" adds all three for each.
 * Batches of 1, 8 and 64 images, cycling through ../shared/reference's 16 test images; the engines
 * take turns within each round, and each column is the median over the rounds; the ratios are
 * medians of each round's own ratio (both engines met the same host noise in it). Where the
 * CPU computes bf16 natively, the same tower with bf16 weights is measured too (what
 * `--dtype bf16` or `auto` serves there), against the same fp32 ORT.
 *
 *   npm run bench:clip [-- --threads 2 --seconds 10]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { clipPixelValues, readClipPreprocessing } from '../lib/images/clip-preprocessor.js';
import { decodeImage } from '../lib/images/decode-image.js';
import { exportClipVisionOnnx } from './export-clip-vision-onnx.js';
import { repoRoot } from './minilm-checkpoint.js';

const shared = path.resolve(process.env.SIE_SHARED_DIR ?? path.join(repoRoot, '..', 'shared'));
const cache = path.join(repoRoot, 'bench', '.cache');

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { threads: { type: 'string', default: '2' }, seconds: { type: 'string', default: '10' }, fast: { type: 'string' } } });
  const fastDtype = values.fast === 'bf16x3' || values.fast === 'bf16x3q' ? values.fast : 'bf16';
  const threads = Number(values.threads), seconds = Number(values.seconds);
  mkdirSync(cache, { recursive: true });
  const dir = path.join(cache, 'clip-vit-b32-shaped');
  if (!existsSync(path.join(dir, 'model.safetensors'))) execFileSync('python3', [path.join(shared, 'tools', 'clip_checkpoint.py'), dir, '--seed', '0'], { stdio: 'inherit' });
  const onnxFile = path.join(dir, 'vision.onnx');
  if (!existsSync(onnxFile)) exportClipVisionOnnx(dir, onnxFile);
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const v = config.vision_config, t = config.text_config;
  const p = readClipPreprocessing(dir);
  const side: number = v.image_size;

  const backend = nativeAddon().openBackend({ device: 'cpu', threads });
  const description = {
    architecture: 'clip', weightsPath: path.join(dir, 'model.safetensors'),
    encoder: { hiddenSize: t.hidden_size, numLayers: t.num_hidden_layers, numHeads: t.num_attention_heads, intermediateSize: t.intermediate_size, vocabSize: t.vocab_size, maxPositions: t.max_position_embeddings, typeVocabSize: 1, layerNormEps: t.layer_norm_eps ?? 1e-5, hiddenAct: t.hidden_act ?? 'quick_gelu' },
    head: { kind: 'clip-text', outputSize: config.projection_dim, normalize: true },
    vision: { hiddenSize: v.hidden_size, numLayers: v.num_hidden_layers, numHeads: v.num_attention_heads, intermediateSize: v.intermediate_size, imageSize: side, patchSize: v.patch_size, layerNormEps: v.layer_norm_eps ?? 1e-5, hiddenAct: v.hidden_act ?? 'quick_gelu' },
  } as const;
  const model = await backend.loadModel(description);
  const model16 = backend.dtypes.includes(fastDtype) ? await backend.loadModel({ ...description, dtype: fastDtype }) : undefined;
  const session = await ort.InferenceSession.create(onnxFile, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });

  const imagesDir = path.join(shared, 'reference', 'images');
  const files = (JSON.parse(readFileSync(path.join(imagesDir, 'images.json'), 'utf8')) as string[]).map((f) => readFileSync(path.join(imagesDir, f)));
  console.log(`# CLIP ViT-B/32-shaped (${v.hidden_size} x ${v.num_hidden_layers}, ${side}px, patch ${v.patch_size}) — ${os.cpus()[0]?.model ?? 'cpu'}, ${threads} threads, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`| batch | decode ms/img | preprocess ms/img | ours forward ms/img | ORT forward ms/img | ours img/s end to end | ORT img/s end to end | ratio | ours ${fastDtype} forward ms/img | ${fastDtype} img/s end to end | ${fastDtype} ratio |`);
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const batch of [1, 8, 64]) {
    const images = Array.from({ length: batch }, (_, i) => files[i % files.length]);
    // Per-round times; each column is reported as its median over the rounds (after the first),
    // so a burst of load from the host's neighbours cannot land on one engine's mean.
    const decodeMs: number[] = [], preprocessMs: number[] = [], oursMs: number[] = [], ortMs: number[] = [], bf16Ms: number[] = [];
    const roundRatios: number[] = [], roundRatios16: number[] = [];
    let rounds = 0, agreement = 1, agreement16 = 1;
    const started = performance.now();
    do {
      const [decoded, d] = await timed(() => Promise.all(images.map((bytes) => decodeImage(bytes))));
      const [pixels, pre] = await timed(() => Promise.all(decoded.map((image) => clipPixelValues(image, p))));
      const input = new Float32Array(batch * 3 * side * side);
      pixels.forEach((px, i) => input.set(px, i * px.length));
      const [ours, o] = await timed(() => model.runImages(input, batch, side, side));
      // ORT's threads spin for a while after a run; a pause lets them settle so the next timed
      // step (ours, or the next round's decode) does not share the cores with them.
      const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
      await settle();
      const [theirs, r] = await timed(() => session.run({ pixel_values: new ort.Tensor('float32', input, [batch, 3, side, side]) }));
      await settle();
      const [fast, f] = model16 ? await timed(() => model16.runImages(input, batch, side, side)) : [undefined, 0];
      if (rounds === 0) {
        const b = theirs.image_embeds.data as Float32Array;
        const minDot = (a: Float32Array) => {
          let worst = 1;
          for (let i = 0; i < batch; i++) {
            let dot = 0;
            for (let j = 0; j < ours.width; j++) dot += a[i * ours.width + j] * b[i * ours.width + j];
            worst = Math.min(worst, dot);
          }
          return worst;
        };
        agreement = minDot(ours.values);
        if (fast) agreement16 = minDot(fast.values);
      } else {
        decodeMs.push(d), preprocessMs.push(pre), oursMs.push(o), ortMs.push(r), bf16Ms.push(f);
        roundRatios.push((d + pre + r) / (d + pre + o));
        if (model16) roundRatios16.push((d + pre + r) / (d + pre + f));
      }
      rounds++;
    } while (performance.now() - started < seconds * 1000 || rounds < 3);
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
    const per = (ms: number | number[]) => (typeof ms === 'number' ? ms : median(ms)) / batch;
    const decodeAndPreprocess = median(decodeMs) + median(preprocessMs);
    const oursRate = 1000 / per(decodeAndPreprocess + median(oursMs)), ortRate = 1000 / per(decodeAndPreprocess + median(ortMs));
    const bf16Rate = 1000 / per(decodeAndPreprocess + median(bf16Ms));
    const bf16Cells = model16 ? `${per(bf16Ms).toFixed(2)} | ${bf16Rate.toFixed(1)} | ${median(roundRatios16).toFixed(2)}x` : '- | - | -';
    console.log(`| ${batch} | ${per(decodeMs).toFixed(2)} | ${per(preprocessMs).toFixed(2)} | ${per(oursMs).toFixed(2)} | ${per(ortMs).toFixed(2)} | ${oursRate.toFixed(1)} | ${ortRate.toFixed(1)} | ${median(roundRatios).toFixed(2)}x | ${bf16Cells} |`);
    if (agreement < 0.99999) console.log(`!! ours and ORT disagree: min cosine ${agreement}`);
    if (model16) console.log(`# batch ${batch}: ${fastDtype} against ORT fp32, min cosine ${agreement16.toFixed(6)}`);
  }
  model.dispose();
  model16?.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
