// SIE's official Python SDK, unmodified (../shared/sie-sdk/python on Debian's python3), against a
// real `sie-server serve` process: the migration guide's snippet word for word, then dense,
// sparse and multivector as numpy arrays, every output dtype, score, extract, the catalogue,
// org/name ids, a cold load (503 MODEL_LOADING, which the SDK retries), errors as the SDK's
// typed exceptions (unknown model, a permanent load failure it must not retry, bad input), and
// the server still serving afterwards. Expected values come from ../shared/reference.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { python, pythonSdkEnv, skipWithoutPythonSdk } from './helpers/python-sdk.js';
import { serveProcess } from './helpers/server-process.js';
import { cosine, maxAbsDiff, readJson, referenceDir, referenceModel, repoRoot, sentences, tempDir } from './helpers/fixtures.js';

const skip = skipWithoutPythonSdk();
const ref = <T>(name: string) => readJson<T>(path.join(referenceDir, 'outputs', name));


t.test('the official Python SDK against sie-server', { skip }, async (t) => {
  const modelsDir = tempDir(t);
  const place = (reference: string, id: string) => cpSync(referenceModel(reference), path.join(modelsDir, id), { recursive: true });
  place('tiny-dense-cls', 'BAAI/bge-small-en-v1.5');
  for (const name of ['tiny-splade', 'tiny-colbert', 'tiny-cross-encoder', 'tiny-token-classifier', 'tiny-classifier']) place(name, name);
  place('tiny-dense-mean', 'broken-weights');
  writeFileSync(path.join(modelsDir, 'broken-weights', 'model.safetensors'), Buffer.alloc(64));
  // Cold models answer 503 MODEL_LOADING at once, so the SDK's retry path is exercised.
  const url = await serveProcess(t, modelsDir, ['-m', 'BAAI/bge-small-en-v1.5', '--cold-load-wait-ms', '0']);

  const texts = sentences().slice(0, 6);
  const pairs = readJson<Array<[string, string]>>(path.join(referenceDir, 'pairs.json'));
  const query = pairs[0][0];
  const documents = pairs.filter((p) => p[0] === query).map((p) => p[1]);
  const script = path.join(repoRoot, 'test', 'sie-sdk', 'python_sdk_session.py');
  t.ok(existsSync(script));
  const output = execFileSync(python, [script, url, JSON.stringify(texts), JSON.stringify({ query, documents })], { encoding: 'utf8', env: pythonSdkEnv, timeout: 120000 });
  const got = JSON.parse(output);

  t.same(got.snippet, { type: 'ndarray', dtype: 'float32', shape: [64] }, 'the guide\'s snippet returns a float32 numpy vector');
  const denseRef = ref<number[][]>('tiny-dense-cls.dense.json');
  got.dense.forEach((item: { id: string; values: number[]; dtype: string }, i: number) => {
    t.equal(item.id, `d${i}`);
    t.equal(item.dtype, 'float32');
    t.ok(cosine(item.values, denseRef[i]) >= 0.99999, `dense ${i} matches the float64 reference`);
  });
  t.same(got.no_id_keys, ['dense'], 'no id when none was given');
  t.same(got.timing_keys, ['inference_ms', 'postprocessing_ms', 'queue_ms', 'tokenization_ms', 'total_ms']);

  const unit = denseRef[0];
  const dt = got.dtypes;
  t.same([dt.float32.numpy_dtype, dt.float16.numpy_dtype, dt.int8.numpy_dtype, dt.uint8.numpy_dtype, dt.binary.numpy_dtype, dt.ubinary.numpy_dtype], ['float32', 'float16', 'int8', 'uint8', 'int8', 'uint8'], 'each output dtype arrives as its numpy dtype');
  t.ok(maxAbsDiff(dt.float16.values, unit) <= 1e-3, 'float16 values');
  t.same(dt.int8.values, unit.map((v) => Math.max(-127, Math.min(127, Math.round(v * 127)))), 'int8 = round(127 x)');
  t.same(dt.uint8.values, unit.map((v) => Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)))), 'uint8 = round(127.5 (x + 1))');
  const bits = Array.from({ length: 8 }, (_, byte) => unit.slice(byte * 8, byte * 8 + 8).reduce((b, v) => (b << 1) | (v > 0 ? 1 : 0), 0));
  t.same(dt.ubinary.values, bits, 'ubinary: packbits(x > 0)');
  t.same(dt.binary.values, bits.map((b) => b - 128), 'binary: packbits(x > 0) - 128');
  t.same(dt.binary.shape, [8], '64 dims pack into 8 bytes');

  const sparseRef = ref<Array<{ indices: number[]; values: number[] }>>('tiny-splade.splade.json');
  got.sparse.forEach((item: { indices: number[]; values: number[]; index_dtype: string }, i: number) => {
    t.same(item.indices, sparseRef[i].indices, `sparse ${i}: term set`);
    t.ok(maxAbsDiff(item.values, sparseRef[i].values) <= 1e-4, `sparse ${i}: weights`);
  });
  t.equal(got.sparse[0].index_dtype, 'int32');
  const colbertRef = ref<number[][][]>('tiny-colbert.colbert.json');
  got.multivector.forEach((item: { shape: number[]; values: number[][] }, i: number) => {
    t.same(item.shape, [colbertRef[i].length, 16], `multivector ${i}: a 2-D array`);
    t.ok(Math.min(...item.values.map((v, j) => cosine(v, colbertRef[i][j]))) >= 0.99999, `multivector ${i} matches`);
  });
  t.same(got.multivector_f16, { dtype: 'float16', shape: [colbertRef[0].length, 16] });

  const logits = ref<number[][]>('tiny-cross-encoder.cls-logits.json').map((x) => x[0]).slice(0, documents.length);
  const order = logits.map((_, i) => i).sort((a, b) => logits[b] - logits[a]);
  t.same(got.score.map((s: { item_id: string }) => s.item_id), order.map((i) => `item-${i}`), 'score: ranked as the reference, SIE\'s default ids');
  t.same(got.score.map((s: { rank: number }) => s.rank), order.map((_, r) => r));
  got.score.forEach((s: { item_id: string; score: number }) => {
    const i = Number(s.item_id.slice('item-'.length));
    t.ok(Math.abs(s.score - 1 / (1 + Math.exp(-logits[i]))) <= 1e-5, `score of ${s.item_id}`);
  });
  t.same(got.extract.map((e: { id: string }) => e.id), ['item-0', 'item-1', 'item-2']);
  t.ok(got.extract.every((e: { entities: unknown[] }) => Array.isArray(e.entities)));
  t.same(got.classify.map((c: { label: string }) => c.label).sort(), ['negative', 'neutral', 'positive']);

  t.match(got.models['BAAI/bge-small-en-v1.5'], { state: 'loaded', outputs: ['dense'], dims: { dense: 64 }, max_sequence_length: 256 });
  t.match(got.models['broken-weights'], { state: 'failed', last_error: { code: 'BAD_WEIGHTS', permanent: true } });
  t.match(got.models['tiny-classifier'], { state: 'loaded', outputs: ['extract'] });
  t.match(got.get_model, { name: 'BAAI/bge-small-en-v1.5', state: 'loaded', loaded: true });

  t.match(got.unknown_model, { class: 'RequestError', code: 'MODEL_NOT_FOUND', status: 404 });
  t.match(got.load_failure, { class: 'ModelLoadFailedError', code: 'MODEL_LOAD_FAILED', status: 502, permanent: true, error_class: 'UNKNOWN' }, 'a broken model fails fast, as a permanent load failure (SIE\'s class UNKNOWN)');
  t.match(got.load_failure_again, { class: 'ModelLoadFailedError', permanent: true });
  t.match(got.empty_items, { class: 'RequestError', status: 400, code: 'INVALID_INPUT' });
  t.match(got.wrong_type, { class: 'RequestError', status: 400, code: 'INVALID_INPUT' }, 'a number where text goes is a 400');
  t.match(got.wrong_output_type, { class: 'RequestError', status: 400, code: 'INVALID_INPUT' });
  t.equal(got.huge_text, 64, 'a 20000-word text is truncated, not refused');
  t.ok(cosine(got.still_serving, denseRef[0]) >= 0.99999, 'still serving after the errors');
});

t.test('a full queue through the Python SDK: 503 OVERLOADED with Retry-After, retried by the SDK until every request succeeds', { skip }, async (t) => {
  const modelsDir = tempDir(t);
  cpSync(referenceModel('tiny-dense-cls'), path.join(modelsDir, 'BAAI', 'bge-small-en-v1.5'), { recursive: true });
  const url = await serveProcess(t, modelsDir, ['-m', 'BAAI/bge-small-en-v1.5', '--max-batch-tokens', '64', '--max-queued-tokens', '64', '--threads', '1']);
  const script = [
    'import sys, json, concurrent.futures',
    'from sie_sdk import SIEClient',
    'sie = SIEClient(sys.argv[1])',
    'text = "queue " * 60',
    'def one(i): return sie.encode("BAAI/bge-small-en-v1.5", {"text": text})["dense"].shape[0]',
    'with concurrent.futures.ThreadPoolExecutor(24) as pool: print(json.dumps(list(pool.map(one, range(48)))))',
  ].join('\n');
  const dims = JSON.parse(execFileSync(python, ['-c', script, url], { encoding: 'utf8', env: pythonSdkEnv, timeout: 120000 }));
  t.equal(dims.length, 48);
  t.ok(dims.every((d: number) => d === 64), 'every request got its vector');
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const refused = Number(/sie_http_requests_total\{route="\/v1\/encode\/\*",model="BAAI\/bge-small-en-v1.5",status_code="503"\} (\d+)/.exec(metrics)?.[1] ?? 0);
  t.equal(Number(/sie_requests_total\{model="BAAI\/bge-small-en-v1.5",endpoint="encode",status="queue_full"\} (\d+)/.exec(metrics)?.[1] ?? 0), refused, 'and under SIE\'s name as queue_full');
  t.ok(refused > 0, `the queue was full ${refused} times, and the SDK retried each`);
});
