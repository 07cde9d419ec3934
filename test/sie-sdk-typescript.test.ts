// SIE's official TypeScript SDK, unmodified (../shared/sie-sdk/ts, bundled here with esbuild, its
// one dependency @msgpack/msgpack from our node_modules), against a real `sie-server serve`:
// typed arrays for every output and dtype, score, extract, the catalogue, and typed errors. The
// same script then runs with sie-server's own SDK (sie-server/sdk), which must answer alike. Cold
// models answer 503 MODEL_LOADING at once, so both clients' retry paths run.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { serveProcess } from './helpers/server-process.js';
import { cosine, maxAbsDiff, readJson, referenceDir, referenceModel, repoRoot, sentences, sharedDir, tempDir } from './helpers/fixtures.js';

const sdkEntry = path.join(sharedDir, 'sie-sdk', 'ts', 'src', 'index.ts');
const ref = <T>(name: string) => readJson<T>(path.join(referenceDir, 'outputs', name));


t.test('the official TypeScript SDK against sie-server', { skip: existsSync(sdkEntry) ? false : 'no ../shared/sie-sdk/ts' }, async (t) => {
  const dir = tempDir(t);
  const bundle = path.join(dir, 'sie-sdk.mjs');
  const esbuild = await import('esbuild');
  await esbuild.build({ entryPoints: [sdkEntry], bundle: true, platform: 'node', format: 'esm', outfile: bundle, nodePaths: [path.join(repoRoot, 'node_modules')], logLevel: 'silent' });
  const modelsDir = path.join(dir, 'models');
  cpSync(referenceModel('tiny-dense-cls'), path.join(modelsDir, 'BAAI', 'bge-small-en-v1.5'), { recursive: true });
  for (const name of ['tiny-splade', 'tiny-colbert', 'tiny-cross-encoder', 'tiny-classifier']) cpSync(referenceModel(name), path.join(modelsDir, name), { recursive: true });
  const url = await serveProcess(t, modelsDir, ['-m', 'BAAI/bge-small-en-v1.5', '--cold-load-wait-ms', '0']);
  const texts = sentences().slice(0, 4);
  const pairs = readJson<Array<[string, string]>>(path.join(referenceDir, 'pairs.json'));
  const query = pairs[0][0];
  const documents = pairs.filter((p) => p[0] === query).map((p) => p[1]);
  const session = (sdk: string) => JSON.parse(execFileSync(process.execPath, [path.join(repoRoot, 'test', 'sie-sdk', 'ts-sdk-session.mjs'), sdk, url, JSON.stringify(texts), JSON.stringify({ query, documents })], { encoding: 'utf8', timeout: 120000 }));
  const got = session(bundle);
  const ours = session(path.join(repoRoot, 'dist', 'lib', 'sdk', 'index.js'));
  t.same(ours, got, 'sie-server/sdk returns exactly what SIE\'s SDK returns, error classes included');

  const denseRef = ref<number[][]>('tiny-dense-cls.dense.json');
  got.dense.forEach((item: { id: string; kind: string; values: number[] }, i: number) => {
    t.equal(item.id, `d${i}`);
    t.equal(item.kind, 'Float32Array', 'dense is a Float32Array');
    t.ok(cosine(item.values, denseRef[i]) >= 0.99999, `dense ${i}`);
  });
  t.same(Object.fromEntries(Object.entries(got.dtypes).map(([k, v]) => [k, (v as { kind: string }).kind])), { float32: 'Float32Array', float16: 'Float32Array', int8: 'Int8Array', uint8: 'Uint8Array', binary: 'Int8Array', ubinary: 'Uint8Array' });
  t.ok(maxAbsDiff(got.dtypes.float16.values, denseRef[0]) <= 1e-3, 'float16 widened to float32');
  t.same(got.dtypes.int8.values, denseRef[0].map((v) => Math.max(-127, Math.min(127, Math.round(v * 127)))));
  const sparseRef = ref<Array<{ indices: number[]; values: number[] }>>('tiny-splade.splade.json');
  got.sparse.forEach((item: { indicesKind: string; indices: number[]; values: number[] }, i: number) => {
    t.equal(item.indicesKind, 'Int32Array');
    t.same(item.indices, sparseRef[i].indices, `sparse ${i}`);
    t.ok(maxAbsDiff(item.values, sparseRef[i].values) <= 1e-4);
  });
  const colbertRef = ref<number[][][]>('tiny-colbert.colbert.json');
  got.multivector.forEach((item: { rows: number; rowKind: string; values: number[][] }, i: number) => {
    t.equal(item.rows, colbertRef[i].length);
    t.equal(item.rowKind, 'Float32Array', 'multivector is Float32Array[]');
    t.ok(Math.min(...item.values.map((v, j) => cosine(v, colbertRef[i][j]))) >= 0.99999, `multivector ${i}`);
  });
  const logits = ref<number[][]>('tiny-cross-encoder.cls-logits.json').map((x) => x[0]).slice(0, documents.length);
  const order = logits.map((_, i) => i).sort((a, b) => logits[b] - logits[a]);
  t.same(got.score.map((s: { itemId: string }) => s.itemId), order.map((i) => `item-${i}`), 'ranked as the reference');
  t.same(got.extract[0].classifications.map((c: { label: string }) => c.label).sort(), ['negative', 'neutral', 'positive']);
  t.ok(got.models.some((m: { name: string }) => m.name === 'tiny-splade'), 'the catalogue lists every model in the models directory');
  t.match(got.model, { name: 'BAAI/bge-small-en-v1.5', dims: { dense: 64 } });
  t.match(got.unknown, { isSIEError: true, code: 'MODEL_NOT_FOUND' });
  t.match(got.empty, { isSIEError: true, code: 'INVALID_INPUT' });
});
