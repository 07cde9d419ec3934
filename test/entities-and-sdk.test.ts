// Hand-made cases: BIO aggregation into spans, and the SDK's retry rules against a fake server.
import http from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { aggregateBio, entityTypes } from '../lib/families/postprocessing/entity-aggregation.js';
import { alignTokens } from '../lib/engine/tokenization/token-spans.js';
import { SIEClient } from '../lib/sdk/index.js';
import { repoRoot } from './helpers/fixtures.js';

t.test('BIO aggregation builds spans from B-/I- runs and word pieces', async (t) => {
  const text = 'Ada Lovelace met Charles Babbage in London.';
  const tokens = ['ada', 'love', '##lace', 'met', 'charles', 'babb', '##age', 'in', 'london', '.'];
  const spans = alignTokens(text, tokens);
  t.same(spans, [[0, 3], [4, 8], [8, 12], [13, 16], [17, 24], [25, 29], [29, 32], [33, 35], [36, 42], [42, 43]]);
  const labels = ['B-PER', 'I-PER', 'I-PER', 'O', 'B-PER', 'I-PER', 'B-LOC', 'O', 'B-LOC', 'O'];
  const scores = [0.9, 0.8, 0.7, 0.99, 0.6, 0.5, 0.4, 0.99, 0.95, 0.99];
  const predictions = tokens.map((tok, i) => ({ label: labels[i], score: scores[i], span: spans[i], continuation: tok.startsWith('##') }));
  const entities = aggregateBio(text, predictions);
  t.same(entities.map((e) => [e.text, e.label, e.start, e.end]), [
    ['Ada Lovelace', 'PER', 0, 12],
    ['Charles Babbage', 'PER', 17, 32],  // "##age" continues its word whatever its own label
    ['London', 'LOC', 36, 42],
  ]);
  t.ok(Math.abs(entities[0].score - (0.9 + 0.8 + 0.7) / 3) < 1e-12, 'score is the mean over the entity tokens');
});

t.test('an I- tag after O starts an entity; a type change ends one', async (t) => {
  const text = 'a b c d';
  const spans: Array<[number, number]> = [[0, 1], [2, 3], [4, 5], [6, 7]];
  const make = (labels: string[]) => aggregateBio(text, labels.map((label, i) => ({ label, score: 1, span: spans[i], continuation: false })));
  t.same(make(['O', 'I-ORG', 'I-ORG', 'O']).map((e) => e.text), ['b c']);
  t.same(make(['B-ORG', 'I-LOC', 'B-LOC', 'I-LOC']).map((e) => [e.text, e.label]), [['a', 'ORG'], ['b', 'LOC'], ['c d', 'LOC']]);
  t.same([...entityTypes(['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'])], ['PER', 'LOC']);
});

t.test('SIEClient retries as SIE\'s SDK does: MODEL_LOADING after Retry-After, other 503s only when waiting for capacity, a load failure never', async (t) => {
  const replies: Array<[number, string, string?]> = [];
  let calls = 0;
  const server = http.createServer((req, res) => {
    calls++;
    const [status, code, retryAfter] = replies.shift() ?? [200, ''];
    if (status === 200) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ model: 'm', items: [{ dense: { dims: 2, dtype: 'float32', values: [0.6, 0.8] } }] }));
      return;
    }
    const detail = { code, message: code.toLowerCase(), ...(code === 'MODEL_LOAD_FAILED' ? { error_class: 'UNKNOWN', permanent: true, attempts: 2 } : {}) };
    res.writeHead(status, { 'content-type': 'application/json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) }).end(JSON.stringify({ detail, error: detail }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const client = new SIEClient(url, { provisionTimeout: 2000 });

  replies.push([503, 'MODEL_LOADING', '0'], [503, 'MODEL_LOADING', '0'], [200, '']);
  const result = await client.encode('m', { text: 'x' });
  t.same(Array.from(result.dense!), [Math.fround(0.6), Math.fround(0.8)]);
  t.equal(calls, 3, 'two MODEL_LOADING answers retried');

  calls = 0;
  replies.push([502, 'MODEL_LOAD_FAILED']);
  await t.rejects(client.encode('m', { text: 'x' }), { name: 'ModelLoadFailedError', statusCode: 502, code: 'MODEL_LOAD_FAILED', permanent: true, attempts: 2, errorClass: 'UNKNOWN' });
  t.equal(calls, 1, 'a load failure is not retried');

  calls = 0;
  replies.push([503, 'OVERLOADED', '0']);
  await t.rejects(client.encode('m', { text: 'x' }), { name: 'ServerError', statusCode: 503, code: 'OVERLOADED' });
  t.equal(calls, 1, 'a full queue is not retried unless waiting for capacity');
  calls = 0;
  replies.push([503, 'OVERLOADED', '0'], [200, '']);
  await client.encode('m', { text: 'x' }, { waitForCapacity: true });
  t.equal(calls, 2, 'with waitForCapacity it is');

  const impatient = new SIEClient(url, { provisionTimeout: 50 });
  replies.push(...Array.from({ length: 5 }, (): [number, string, string] => [503, 'MODEL_LOADING', '1']));
  await t.rejects(impatient.encode('m', { text: 'x' }), { name: 'ModelLoadingError', model: 'm' });
  replies.length = 0;

  await client.close();
  await t.rejects(client.listModels(), { name: 'SIEConnectionError' });
  const unreachable = new SIEClient('http://127.0.0.1:9', { timeout: 2000 });
  await t.rejects(unreachable.listModels(), { name: 'SIEConnectionError', kind: 'connect' });
});

t.test('the SDK loads nothing from the server, the engine or the native addon', async (t) => {
  // Wire types are shared with the server type-only; the compiled SDK must import only itself and msgpack.
  const dir = path.join(repoRoot, 'dist', 'lib', 'sdk');
  const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
  t.ok(files.length >= 2, 'the compiled SDK is there');
  for (const file of files) {
    const imports = [...readFileSync(path.join(dir, file), 'utf8').matchAll(/(?:from|import)\s*'([^']+)'/g)].map((m) => m[1]);
    for (const spec of imports) t.ok(spec.startsWith('./') || spec === '@msgpack/msgpack', `${file} imports ${spec}`);
  }
});
