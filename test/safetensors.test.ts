// Malformed weight files are refused with BAD_WEIGHTS naming the problem, never a crash.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Engine } from '../lib/engine/engine.js';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { referenceModel, tempDir } from './helpers/fixtures.js';

const { inspectWeights } = nativeAddon();

function fileWithHeader(dir: string, header: unknown, dataBytes: number, rawHeader?: string): string {
  const json = Buffer.from(rawHeader ?? JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  const file = path.join(dir, `w${Math.random().toString(36).slice(2)}.safetensors`);
  writeFileSync(file, Buffer.concat([prefix, json, Buffer.alloc(dataBytes)]));
  return file;
}

t.test('a valid file lists its tensors with dtype and shape', async (t) => {
  const tensors = inspectWeights(path.join(referenceModel('tiny-dense-mean-f16'), 'model.safetensors'));
  const word = tensors.find((x) => x.name === 'embeddings.word_embeddings.weight');
  t.same(word, { name: 'embeddings.word_embeddings.weight', dtype: 'F16', shape: [30522, 64] });
  t.equal(tensors.find((x) => x.name === 'embeddings.position_ids')?.dtype, 'I64');
});

t.test('malformed headers are BAD_WEIGHTS errors that say what is wrong', async (t) => {
  const dir = tempDir(t);
  const ok = { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] };
  const cases: Array<[string, string, RegExp]> = [
    ['empty file', (() => { const f = path.join(dir, 'empty.safetensors'); writeFileSync(f, ''); return f; })(), /shorter than/],
    ['header longer than file', (() => { const f = path.join(dir, 'long.safetensors'); const b = Buffer.alloc(16); b.writeBigUInt64LE(1000n); writeFileSync(f, b); return f; })(), /header length/],
    ['header length beyond any bound', (() => { const f = path.join(dir, 'huge.safetensors'); const b = Buffer.alloc(16); b.writeBigUInt64LE(0xffffffffffffn); writeFileSync(f, b); return f; })(), /header length/],
    ['not JSON', fileWithHeader(dir, null, 0, '{"a": [1, 2'), /not valid JSON/],
    ['JSON array', fileWithHeader(dir, [1, 2], 0), /not a JSON object/],
    ['unknown dtype', fileWithHeader(dir, { w: { ...ok, dtype: 'F8_E4M3X' } }, 16), /tensor 'w'.*unsupported dtype/],
    ['size mismatch', fileWithHeader(dir, { w: { ...ok, data_offsets: [0, 12] } }, 16), /tensor 'w'.*byte length/],
    ['offsets outside the file', fileWithHeader(dir, { w: { ...ok, data_offsets: [16, 32] } }, 16), /tensor 'w'.*outside/],
    ['reversed offsets', fileWithHeader(dir, { w: { ...ok, data_offsets: [16, 0] } }, 16), /tensor 'w'.*outside/],
    ['negative dimension', fileWithHeader(dir, { w: { ...ok, shape: [-2, 2] } }, 16), /tensor 'w'.*dimension/],
    ['overlapping tensors', fileWithHeader(dir, { a: ok, b: { ...ok, data_offsets: [8, 24] } }, 24), /overlap/],
    ['missing offsets', fileWithHeader(dir, { w: { dtype: 'F32', shape: [1] } }, 4), /tensor 'w'.*data_offsets/],
    ['deeply nested JSON', fileWithHeader(dir, null, 0, '['.repeat(5000) + ']'.repeat(5000)), /not valid JSON/],
  ];
  for (const [what, file, message] of cases) {
    t.throws(() => inspectWeights(file), { code: 'BAD_WEIGHTS', message }, what);
  }
});

t.test('a model whose weights are truncated fails to load with BAD_WEIGHTS; other models still work', async (t) => {
  const dir = tempDir(t);
  const broken = path.join(dir, 'broken-model');
  cpSync(referenceModel('tiny-dense-mean'), broken, { recursive: true });
  const weights = path.join(broken, 'model.safetensors');
  writeFileSync(weights, readFileSync(weights).subarray(0, 100000));
  const engine = new Engine({ threads: 1, progress: null });
  t.teardown(() => engine.close());
  await t.rejects(engine.load(broken), { code: 'BAD_WEIGHTS' });
  t.equal(engine.list().find((m) => m.id === 'broken-model')?.state, 'failed');
  const good = await engine.embed(referenceModel('tiny-dense-mean'), ['still serving']);
  t.equal(good.embeddings[0].length, 64);
});

t.test('a tensor with the wrong shape names the tensor and both shapes', async (t) => {
  const dir = tempDir(t);
  const model = path.join(dir, 'wrong-shape');
  cpSync(referenceModel('tiny-dense-mean'), model, { recursive: true });
  const configPath = path.join(model, 'config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  writeFileSync(configPath, JSON.stringify({ ...config, intermediate_size: 128 }));
  const engine = new Engine({ threads: 1, progress: null });
  t.teardown(() => engine.close());
  await t.rejects(engine.load(model), { code: 'BAD_WEIGHTS', message: /intermediate\.dense\.weight' has shape \[256, 64\], expected \[128, 64\]/ });
});
