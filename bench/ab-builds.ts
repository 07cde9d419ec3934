/**
 * Two builds of the native addon in one process, on one model, called alternately on the same
 * batches: the way to measure a change worth a few percent on a host whose speed moves by more
 * than that from minute to minute. Each pair runs in alternating order; the answer is the
 * median of the per-pair time ratios (A / B: above 1 when B is faster). Run it both ways round.
 *
 *   npm run bench:ab -- --a old.node --b build/Release/sie_native.node [--model dir] [--dtype bf16]
 *     [--pooling cls] [--min 256 --max 256 --batch 8] [--images N] [--seconds 20]
 *
 * --a-isa / --b-isa cap each build's CPU path (SIE_CPU_ISA, read by each addon when it loads; the
 * two files must differ, or Node loads one addon twice): `--a X.node --a-isa avx2 --b Y.node
 * --b-isa avx512 --dtype fp32` compares two kernel paths in one process.
 * --model defaults to the MiniLM-shaped checkpoint (bench/.cache); --pooling overrides the
 * model's pooled head (mean, cls, last) to measure what a head's rows cost; --images N runs a
 * CLIP model's vision tower on N images of seeded pixels instead of text.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { NativeAddon, NativeModelDescription } from '../lib/bindings/native-addon.js';
import { Engine } from '../lib/engine/engine.js';
import { chunk, sequences } from './bench-inputs.js';
import { minilmCheckpoint } from './minilm-checkpoint.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      a: { type: 'string' }, b: { type: 'string' }, model: { type: 'string' }, dtype: { type: 'string', default: 'bf16' },
      pooling: { type: 'string' }, min: { type: 'string', default: '256' }, max: { type: 'string', default: '256' },
      batch: { type: 'string', default: '8' }, images: { type: 'string' }, seconds: { type: 'string', default: '20' },
      'a-isa': { type: 'string' }, 'b-isa': { type: 'string' },
    },
  });
  if (!values.a || !values.b) throw new Error('name the two builds: --a FILE.node --b FILE.node');
  const dir = path.resolve(values.model ?? minilmCheckpoint('dense-mean', false).modelDir);
  // The description the engine itself would load, with the dtype (and pooling) asked for.
  const engine = new Engine({ threads: 1, progress: null });
  const lease = await engine.acquire(dir);
  const loaded = lease.model.adapter.description;
  lease.release();
  engine.close();
  const description: NativeModelDescription = {
    ...loaded,
    dtype: values.dtype as NativeModelDescription['dtype'],
    head: values.pooling ? { ...loaded.head, pooling: values.pooling as 'mean' | 'cls' | 'last' } : loaded.head,
  };
  // Ids inside every family's vocabulary: the speed does not depend on which.
  const ids = { first: 2, last: 3, lowId: 10, highId: 990 };
  const batches = chunk(sequences(Number(values.batch) * 4, Number(values.min), Number(values.max), 7, ids), Number(values.batch)).map((batch) => {
    const offsets = [0];
    for (const s of batch) offsets.push(offsets[offsets.length - 1] + s.length);
    const flat = batch.flat();
    return { ids: Int32Array.from(flat), types: new Int32Array(flat.length), offsets: Int32Array.from(offsets) };
  });
  const images = values.images ? Number(values.images) : 0;
  const side = description.vision?.imageSize ?? 0;
  const pixels = Float32Array.from({ length: images * 3 * side * side }, (_, i) => Math.sin(i) * 0.5);
  const require = createRequire(import.meta.url);
  const models = [];
  const sides = [{ file: values.a, isa: values['a-isa'] }, { file: values.b, isa: values['b-isa'] }];
  if (sides.some((s) => s.isa) && path.resolve(values.a) === path.resolve(values.b)) throw new Error('--a-isa/--b-isa need two files (copy the build)');
  const inherited = process.env.SIE_CPU_ISA;
  for (const { file, isa } of sides) {
    if (isa) process.env.SIE_CPU_ISA = isa;
    else if (inherited === undefined) delete process.env.SIE_CPU_ISA;
    else process.env.SIE_CPU_ISA = inherited;
    const addon = require(path.resolve(file)) as NativeAddon;
    const backend = addon.openBackend({ device: 'cpu', threads: 2 });
    if (isa) console.log(`${file}: CPU ISA ${addon.kernels.cpuIsa.active}, fp32 GEMM kernel ${addon.kernels.gemmKernel}`);
    models.push(await backend.loadModel(description));
  }
  const times: number[][] = [[], []], ratios: number[] = [];
  const end = performance.now() + Number(values.seconds) * 1000;
  for (let i = 0; performance.now() < end || ratios.length < 3; i++) {
    const batch = batches[i % batches.length];
    const pair = [0, 0];
    for (const k of i % 2 ? [1, 0] : [0, 1]) {
      const started = performance.now();
      if (images) await models[k].runImages(pixels, images, side, side);
      else await models[k].run(batch.ids, batch.types, batch.offsets);
      pair[k] = performance.now() - started;
      times[k].push(pair[k]);
    }
    ratios.push(pair[0] / pair[1]);
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  const shape = images ? `${images} images` : `${values.min}-${values.max} tokens x ${values.batch}`;
  console.log(`${path.basename(dir)} ${description.dtype} ${shape}: A p50 ${median(times[0]).toFixed(2)} ms, B p50 ${median(times[1]).toFixed(2)} ms, A/B ${median(ratios).toFixed(3)} (median of ${ratios.length} pairs)`);
  for (const model of models) model.dispose();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
