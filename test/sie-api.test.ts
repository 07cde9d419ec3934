// SIE's native routes in JSON and msgpack, the SIEClient SDK against a running server, and the
// documented bad-input answers. Expected vectors come from ../shared/reference.
import { encode } from '@msgpack/msgpack';
import path from 'node:path';
import t from 'tap';
import { RequestError, SIEClient } from '../lib/sdk/index.js';
import { decodeSieMsgpack } from '../lib/sdk/msgpack-numpy.js';
import { cosine, maxAbsDiff, readJson, referenceDir, referenceModel, sentences } from './helpers/fixtures.js';
import { startServer } from './helpers/server.js';

const ALL = ['tiny-dense-mean', 'tiny-splade', 'tiny-colbert', 'tiny-cross-encoder', 'tiny-classifier', 'tiny-token-classifier'].map(referenceModel);
const ref = <T>(name: string) => readJson<T>(path.join(referenceDir, 'outputs', name));

async function call(baseUrl: string, route: string, body: unknown, format: 'json' | 'msgpack'): Promise<{ status: number; body: any; type: string; headers: Headers }> {
  const response = await fetch(`${baseUrl}${route}`, format === 'json'
    ? { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) }
    : { method: 'POST', headers: { 'content-type': 'application/msgpack' }, body: Buffer.from(encode(body)) });
  const type = response.headers.get('content-type') ?? '';
  const bytes = new Uint8Array(await response.arrayBuffer());
  const parsed = type.includes('msgpack') ? decodeSieMsgpack(bytes) : JSON.parse(new TextDecoder().decode(bytes));
  return { status: response.status, body: parsed, type, headers: response.headers };
}

t.test('encode, score and extract in JSON and msgpack', async (t) => {
  const { baseUrl } = await startServer(t, ALL);
  const texts = sentences().slice(0, 4);
  for (const format of ['json', 'msgpack'] as const) {
    const dense = await call(baseUrl, '/v1/encode/tiny-dense-mean', { items: texts.map((text, i) => ({ id: `d${i}`, text, metadata: { n: i } })) }, format);
    t.equal(dense.status, 200, `${format}: dense status`);
    t.match(dense.type, format === 'json' ? /application\/json/ : /application\/msgpack/, `${format}: response format`);
    const denseRef = ref<number[][]>('tiny-dense-mean.dense.json');
    dense.body.items.forEach((item: any, i: number) => {
      t.equal(item.id, `d${i}`);
      t.same(item.metadata, { n: i }, 'metadata round-trips');
      t.equal(item.dense.dims, 64);
      t.equal(item.dense.dtype, 'float32');
      t.ok(cosine(item.dense.values, denseRef[i]) >= 0.99999, `${format}: dense ${i}`);
    });
    t.type(dense.body.timing.total_ms, 'number');
    t.type(dense.body.timing.inference_ms, 'number');

    const sparse = await call(baseUrl, '/v1/encode/tiny-splade', { items: texts.map((text) => ({ text })), params: { output_types: ['sparse'] } }, format);
    const sparseRef = ref<Array<{ indices: number[]; values: number[] }>>('tiny-splade.splade.json');
    sparse.body.items.forEach((item: any, i: number) => {
      t.same(item.sparse.indices, sparseRef[i].indices, `${format}: sparse indices ${i}`);
      t.ok(maxAbsDiff(item.sparse.values, sparseRef[i].values) <= 1e-4, `${format}: sparse values ${i}`);
      t.equal(item.sparse.dims, 30522);
    });

    const multi = await call(baseUrl, '/v1/encode/tiny-colbert', { items: texts.map((text) => ({ text })), params: { output_types: ['multivector'] } }, format);
    const colbertRef = ref<number[][][]>('tiny-colbert.colbert.json');
    multi.body.items.forEach((item: any, i: number) => {
      t.equal(item.multivector.num_tokens, colbertRef[i].length);
      t.equal(item.multivector.token_dims, 16);
      const worst = Math.min(...item.multivector.values.map((v: number[], j: number) => cosine(v, colbertRef[i][j])));
      t.ok(worst >= 0.99999, `${format}: colbert ${i}`);
    });

    const pairs = readJson<Array<[string, string]>>(path.join(referenceDir, 'pairs.json'));
    const query = pairs[0][0];
    const docs = pairs.filter((p) => p[0] === query).map((p) => p[1]);
    const logits = ref<number[][]>('tiny-cross-encoder.cls-logits.json').slice(0, docs.length).map((x) => x[0]);
    const scored = await call(baseUrl, '/v1/score/tiny-cross-encoder', { query: { id: 'q', text: query }, items: docs.map((text) => ({ text })) }, format);
    t.equal(scored.body.query_id, 'q');
    const expectedOrder = logits.map((l, i) => ({ i, l })).sort((a, b) => b.l - a.l);
    t.same(scored.body.scores.map((s: any) => s.item_id), expectedOrder.map((e) => `item-${e.i}`), `${format}: ranking, ids default to item-<index> as SIE's`);
    scored.body.scores.forEach((s: any, rank: number) => {
      t.equal(s.rank, rank);
      t.ok(Math.abs(s.score - 1 / (1 + Math.exp(-expectedOrder[rank].l))) <= 1e-5, `${format}: sigmoid score`);
    });

    const classified = await call(baseUrl, '/v1/extract/tiny-classifier', { items: [{ id: 'a', text: texts[0] }] }, format);
    const clsRef = ref<number[][]>('tiny-classifier.cls-logits.json')[0];
    const exps = clsRef.map(Math.exp);
    const probs = exps.map((e) => e / exps.reduce((a, b) => a + b, 0));
    const byLabel = Object.fromEntries(classified.body.items[0].classifications.map((c: any) => [c.label, c.score]));
    ['negative', 'neutral', 'positive'].forEach((label, j) => t.ok(Math.abs(byLabel[label] - probs[j]) <= 1e-5, `${format}: ${label}`));
    t.same(classified.body.items[0].entities, []);
  }
});

t.test('output dtypes: float16 rounding and packed binary', async (t) => {
  const { baseUrl } = await startServer(t);
  const text = sentences()[1];
  const f32 = (await call(baseUrl, '/v1/encode/tiny-dense-mean', { items: [{ text }] }, 'json')).body.items[0].dense.values as number[];
  const f16 = (await call(baseUrl, '/v1/encode/tiny-dense-mean', { items: [{ text }], params: { output_dtype: 'float16' } }, 'json')).body.items[0].dense;
  t.equal(f16.dtype, 'float16');
  t.ok(maxAbsDiff(f16.values, f32) <= 2 ** -11, 'within half-precision rounding');
  const ubin = (await call(baseUrl, '/v1/encode/tiny-dense-mean', { items: [{ text }], params: { output_dtype: 'ubinary' } }, 'json')).body.items[0].dense;
  t.equal(ubin.values.length, 8, '64 dims -> 8 bytes');
  const bits: number[] = f32.map((v) => (v > 0 ? 1 : 0));
  const firstByte = bits.slice(0, 8).reduce((acc, b) => (acc << 1) | b, 0);
  t.equal(ubin.values[0], firstByte, 'most significant bit first, as numpy.packbits');
  const bin = (await call(baseUrl, '/v1/encode/tiny-dense-mean', { items: [{ text }], params: { output_dtype: 'binary' } }, 'json')).body.items[0].dense;
  t.equal(bin.values[0], firstByte - 128);
});

t.test('SIEClient against a running server', async (t) => {
  const { baseUrl } = await startServer(t, ALL);
  const client = new SIEClient(baseUrl, { timeout: 10000 });
  t.teardown(() => client.close());
  const one = await client.encode('tiny-dense-mean', { text: 'hello world!' });
  t.ok(one.dense instanceof Float32Array);
  t.ok(cosine(one.dense!, ref<number[][]>('tiny-dense-mean.dense.json')[0]) >= 0.99999);
  const many = await client.encode('tiny-splade', [{ id: 'x', text: 'hello world!' }, { text: 'The quick brown fox jumps over the lazy dog.' }], { outputTypes: ['sparse'] });
  t.equal(many.length, 2);
  t.equal(many[0].id, 'x');
  t.same(Array.from(many[0].sparse!.indices), ref<Array<{ indices: number[] }>>('tiny-splade.splade.json')[0].indices);
  t.ok(many[0].sparse!.indices instanceof Int32Array);
  const scores = await client.score('tiny-cross-encoder', { text: 'What is the capital of France?' }, [{ text: 'Paris is the capital of France.' }, { text: 'Bananas are yellow.' }]);
  t.equal(scores.scores.length, 2);
  t.same(scores.scores.map((s) => s.rank), [0, 1]);
  t.same(scores.scores.map((s) => s.itemId).sort(), ['item-0', 'item-1']);
  const extracted = await client.extract('tiny-token-classifier', { text: 'Ada Lovelace worked in London with Charles Babbage.' }, { labels: [] });
  t.type(extracted.entities, Array);
  for (const e of extracted.entities) t.equal([...'Ada Lovelace worked in London with Charles Babbage.'].slice(e.start!, e.end!).join(''), e.text, 'entity text is its span');
  const models = await client.listModels();
  t.same(models.map((m) => m.name).sort(), ALL.map((m) => path.basename(m)).sort());
  const info = await client.getModel('tiny-colbert');
  t.match(info, { name: 'tiny-colbert', loaded: true, outputs: ['multivector'], dims: { multivector: 16 }, maxSequenceLength: 256 });
  await t.rejects(client.encode('tiny-cross-encoder', { text: 'x' }), new RequestError('model tiny-cross-encoder does not support encode (it supports: score)', 'INVALID_INPUT', 400));
  await t.rejects(client.getModel('nope'), { name: 'RequestError', statusCode: 404, code: 'MODEL_NOT_FOUND' });
});

t.test('org/name model ids, raw and URL-encoded, on every SIE route', async (t) => {
  const { baseUrl, engine } = await startServer(t, []);
  // Load under an org/name id through a models directory.
  const { cpSync } = await import('node:fs');
  const { tempDir } = await import('./helpers/fixtures.js');
  const dir = tempDir(t);
  cpSync(referenceModel('tiny-dense-mean'), path.join(dir, 'test-org', 'tiny'), { recursive: true });
  await engine.load(path.join(dir, 'test-org', 'tiny'));
  const response = await call(baseUrl, `/v1/encode/${encodeURIComponent('tiny')}`, { items: [{ text: 'x' }] }, 'json');
  t.equal(response.status, 200);
  engine.unload('tiny');
  const orgEngine = await startServer(t, []);
  (orgEngine.engine as unknown as { resolver: { modelsDirs: string[] } }).resolver.modelsDirs.push(dir);
  for (const route of ['test-org/tiny', encodeURIComponent('test-org/tiny')]) {
    const encoded = await call(orgEngine.baseUrl, `/v1/encode/${route}`, { items: [{ text: 'x' }] }, 'json');
    t.equal(encoded.status, 200, `encode /v1/encode/${route}`);
    t.equal(encoded.body.model, 'test-org/tiny');
    const info = await fetch(`${orgEngine.baseUrl}/v1/models/${route}`);
    t.match(await info.json(), { name: 'test-org/tiny', state: 'loaded', dims: { dense: 64 } }, `GET /v1/models/${route}`);
  }
  const walking = await call(orgEngine.baseUrl, `/v1/encode/test-org/${encodeURIComponent('../tiny')}`, { items: [{ text: 'x' }] }, 'json');
  t.equal(walking.status, 404, 'an id that walks the tree is not a model');
  const raw = await call(baseUrl, '/v1/encode/BAAI/bge-m3', { items: [{ text: 'x' }] }, 'json');
  t.equal(raw.status, 404);
  t.equal(raw.body.detail.code, 'MODEL_NOT_FOUND');
  const missing = await call(baseUrl, `/v1/encode/${encodeURIComponent('BAAI/bge-m3')}`, { items: [{ text: 'x' }] }, 'json');
  t.equal(missing.status, 404);
  t.equal(missing.body.detail.code, 'MODEL_NOT_FOUND');
});

t.test('bad input on SIE routes: documented status and body, server still serving', async (t) => {
  const { baseUrl } = await startServer(t, ALL, { maxInputsPerRequest: 16 });
  const cases: Array<[string, string, unknown, number, string]> = [
    ['score without query', '/v1/score/tiny-cross-encoder', { items: [{ text: 'x' }] }, 400, 'INVALID_INPUT'],
    ['score with empty items', '/v1/score/tiny-cross-encoder', { query: { text: 'q' }, items: [] }, 400, 'INVALID_INPUT'],
    ['encode with empty items', '/v1/encode/tiny-dense-mean', { items: [] }, 400, 'INVALID_INPUT'],
    ['encode without items', '/v1/encode/tiny-dense-mean', {}, 400, 'INVALID_INPUT'],
    ['images sent to a text model', '/v1/encode/tiny-dense-mean', { items: [{ images: [{ data: 'aGVsbG8=', format: 'png' }] }] }, 400, 'INVALID_INPUT'],
    ['item without text', '/v1/encode/tiny-dense-mean', { items: [{ id: 'a' }] }, 400, 'INVALID_INPUT'],
    ['unknown output type', '/v1/encode/tiny-dense-mean', { items: [{ text: 'x' }], params: { output_types: ['holographic'] } }, 400, 'INVALID_INPUT'],
    ['output type the model cannot produce', '/v1/encode/tiny-dense-mean', { items: [{ text: 'x' }], params: { output_types: ['sparse'] } }, 400, 'INVALID_INPUT'],
    ['unknown output dtype', '/v1/encode/tiny-dense-mean', { items: [{ text: 'x' }], params: { output_dtype: 'int4' } }, 400, 'INVALID_INPUT'],
    ['unknown entity label filter', '/v1/extract/tiny-token-classifier', { items: [{ text: 'x' }], params: { labels: ['SPACESHIP'] } }, 400, 'INVALID_INPUT'],
    ['unknown classification label filter', '/v1/extract/tiny-classifier', { items: [{ text: 'x' }], params: { labels: ['SPACESHIP'] } }, 400, 'INVALID_INPUT'],
    ['huge item count', '/v1/encode/tiny-dense-mean', { items: Array.from({ length: 17 }, () => ({ text: 'x' })) }, 413, 'TOO_MANY_INPUTS'],
    ['score on an embedding model', '/v1/score/tiny-dense-mean', { query: { text: 'q' }, items: [{ text: 'x' }] }, 400, 'INVALID_INPUT'],
    ['unknown model', '/v1/encode/nope', { items: [{ text: 'x' }] }, 404, 'MODEL_NOT_FOUND'],
    ['model path in the URL', `/v1/encode/${encodeURIComponent('../../etc')}`, { items: [{ text: 'x' }] }, 404, 'MODEL_NOT_FOUND'],
  ];
  for (const [what, route, body, status, code] of cases) {
    for (const format of ['json', 'msgpack'] as const) {
      const response = await call(baseUrl, route, body, format);
      t.equal(response.status, status, `${what} (${format}): status`);
      t.equal(response.body?.detail?.code, code, `${what} (${format}): detail.code`);
      t.type(response.body?.detail?.message, 'string', `${what} (${format}): detail.message`);
    }
  }
  const garbage = await fetch(`${baseUrl}/v1/encode/tiny-dense-mean`, { method: 'POST', headers: { 'content-type': 'application/msgpack' }, body: Buffer.from([0xc1, 0xff, 0x00]) });
  t.equal(garbage.status, 400, 'undecodable msgpack');
  const ok = await call(baseUrl, '/v1/encode/tiny-dense-mean', { items: [{ text: 'still serving' }] }, 'msgpack');
  t.equal(ok.status, 200);
});

t.test('Infinity routes: /embeddings, /rerank, /classify, /models', async (t) => {
  const { baseUrl } = await startServer(t, ALL);
  const post = async (route: string, body: unknown) => {
    const r = await fetch(`${baseUrl}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() as any };
  };
  const embeddings = await post('/embeddings', { model: 'tiny-dense-mean', input: ['hello world!'] });
  t.ok(cosine(embeddings.body.data[0].embedding, ref<number[][]>('tiny-dense-mean.dense.json')[0]) >= 0.99999);
  const docs = ['Paris is the capital of France.', 'Bananas are yellow.', 'The Eiffel Tower is in Paris.'];
  const all = await post('/rerank', { model: 'tiny-cross-encoder', query: 'Where is Paris?', documents: docs, return_documents: true });
  t.equal(all.body.results.length, 3);
  for (let i = 1; i < 3; i++) t.ok(all.body.results[i - 1].relevance_score >= all.body.results[i].relevance_score, 'sorted by relevance');
  all.body.results.forEach((r: any) => t.equal(r.document, docs[r.index]));
  const top = await post('/rerank', { model: 'tiny-cross-encoder', query: 'Where is Paris?', documents: docs, top_n: 1 });
  t.same(top.body.results, [{ index: all.body.results[0].index, relevance_score: all.body.results[0].relevance_score }]);
  const classified = await post('/classify', { model: 'tiny-classifier', input: ['a', 'b'] });
  t.equal(classified.body.data.length, 2);
  t.equal(classified.body.data[0].length, 3);
  const models = await (await fetch(`${baseUrl}/models`)).json() as any;
  t.equal(models.data.length, ALL.length);
  const badRerank = await post('/rerank', { model: 'tiny-cross-encoder', query: 'q', documents: [] });
  t.equal(badRerank.status, 400);
});

t.test('GET /openapi.json and `sie-server openapi -o FILE` give the OpenAPI document of every route', async (t) => {
  const { baseUrl } = await startServer(t, []);
  const response = await fetch(`${baseUrl}/openapi.json`);
  t.equal(response.status, 200);
  const served = await response.json() as { openapi: string; info: { version: string }; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>> };
  t.match(served.openapi, /^3\./);
  for (const route of ['/v1/encode/{model}', '/v1/score/{model}', '/v1/extract/{model}', '/v1/models/{model}', '/v1/embeddings', '/v1/models', '/embeddings', '/rerank', '/classify', '/healthz', '/readyz']) {
    t.ok(served.paths[route], `documents ${route}`);
  }
  t.same(served.paths['/v1/encode/{model}'].post.requestBody?.content['application/json'].schema.required, ['items'], 'from the route\'s own body schema');
  const { execFileSync } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const { tempDir, repoRoot } = await import('./helpers/fixtures.js');
  const file = path.join(tempDir(t), 'openapi.json');
  execFileSync(process.execPath, [path.join(repoRoot, 'dist', 'lib', 'cli', 'sie-server.js'), 'openapi', '-o', file]);
  t.same(JSON.parse(readFileSync(file, 'utf8')), served, 'the CLI writes the same document');
});

t.test('extract honours labels and threshold; a model that can never fit the budget is a permanent load failure', async (t) => {
  const { baseUrl } = await startServer(t, [referenceModel('tiny-classifier')]);
  const { SIEClient: Client } = await import('../lib/sdk/index.js');
  const client = new Client(baseUrl);
  const text = sentences()[0];
  const all = await client.extract('tiny-classifier', { text }, { labels: [] });
  t.equal(all.classifications.length, 3);
  const top = all.classifications[0].score;
  const above = await client.extract('tiny-classifier', { text }, { labels: [], threshold: top - 1e-6 });
  t.same(above.classifications.map((c) => c.label), [all.classifications[0].label], 'threshold keeps only scores at or above it');
  const only = await client.extract('tiny-classifier', { text }, { labels: ['neutral'] });
  t.same(only.classifications.map((c) => c.label), ['neutral']);
  await t.rejects(client.extract('tiny-classifier', { text }, { labels: [], threshold: 2 }), { name: 'RequestError', statusCode: 400 });

  const tiny = await startServer(t, [], {});
  (tiny.engine as unknown as { registry: { options: { budgetBytes: number } } }).registry.options.budgetBytes = 1024;
  const small = new Client(tiny.baseUrl);
  await t.rejects(small.encode(referenceModel('tiny-dense-mean').split('/').pop()!, { text: 'x' }), { name: 'RequestError', statusCode: 404 }, 'unknown there (no models dir)');
  (tiny.engine as unknown as { resolver: { modelsDirs: string[] } }).resolver.modelsDirs.push(path.join(referenceDir, 'models'));
  await t.rejects(small.encode('tiny-dense-mean', { text: 'x' }), { name: 'ModelLoadFailedError', statusCode: 502, permanent: true, errorClass: 'OOM' }, 'never fits the budget: permanent, not retried');
});

t.test('SIE routes send SIE\'s headers: the API version SIE\'s SDKs check, this implementation, timing', async (t) => {
  const { baseUrl } = await startServer(t, [referenceModel('tiny-dense-mean')]);
  const response = await call(baseUrl, '/v1/encode/tiny-dense-mean', { items: [{ text: 'hello' }] }, 'msgpack');
  t.equal(response.headers.get('x-sie-server-version'), '0.3.1', 'the SIE API version (the official SDKs are 0.3.1: no skew warning)');
  t.match(response.headers.get('x-sie-server-implementation'), /^sie-server\/\d+\.\d+\.\d+/);
  for (const header of ['x-queue-time', 'x-tokenization-time', 'x-inference-time', 'x-total-time']) t.match(response.headers.get(header), /^\d+\.\d\d$/, header);
  t.ok(Number(response.headers.get('x-total-time')) >= Number(response.headers.get('x-inference-time')));
});
