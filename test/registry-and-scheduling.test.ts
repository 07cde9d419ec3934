// Many models in one process: LRU eviction under a memory budget, batching across clients,
// fairness between models, backpressure, cancellation, auth and admin routes.
import path from 'node:path';
import t from 'tap';
import { Engine } from '../lib/engine/engine.js';
import { buildServer } from '../lib/server/app.js';
import { ServerMetrics } from '../lib/server/server-metrics.js';
import { cosine, readJson, referenceDir, referenceModel, sentences } from './helpers/fixtures.js';

const MODELS = ['tiny-dense-mean', 'tiny-dense-cls', 'tiny-dense-mean-f16'];
const reference = Object.fromEntries(MODELS.map((m) => [m, readJson<number[][]>(path.join(referenceDir, 'outputs', `${m}.dense.json`))]));

async function serve(t: { teardown: (fn: () => Promise<void>) => void }, engineOptions: ConstructorParameters<typeof Engine>[0] = {}, serverOptions: Partial<Parameters<typeof buildServer>[0]> = {}) {
  const metrics = new ServerMetrics();
  const engine = new Engine({ threads: 2, progress: null, modelsDir: path.join(referenceDir, 'models'), observer: metrics.observer, ...engineOptions });
  const app = buildServer({ engine, metrics, ...serverOptions });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(async () => {
    await app.close();
    engine.close();
  });
  const port = (app.server.address() as { port: number }).port;
  return { engine, metrics, baseUrl: `http://127.0.0.1:${port}` };
}

async function embed(baseUrl: string, model: string, input: string | string[], headers: Record<string, string> = {}) {
  const response = await fetch(`${baseUrl}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model, input, encoding_format: 'float' }) });
  return { status: response.status, headers: response.headers, body: await response.json() as any };
}

function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}` : ''}`) && !l.startsWith('#'));
  return line ? Number(line.split(' ').pop()) : 0;
}

t.test('three models, a budget that fits two: 200 concurrent requests all correct, evictions counted', async (t) => {
  const probe = new Engine({ threads: 1, progress: null });
  const bytes = (await probe.load(referenceModel('tiny-dense-mean'))).weightBytes;
  probe.close();
  const { baseUrl, engine } = await serve(t, { memoryBudgetBytes: Math.floor(bytes * 2.6), loadWaitMs: 30000 });
  const texts = sentences();
  const jobs = Array.from({ length: 200 }, (_, i) => ({ model: MODELS[(i * 7 + (i >> 3)) % 3], index: (i * 5) % texts.length }));
  const results = await Promise.all(jobs.map(async (job) => ({ job, response: await embed(baseUrl, job.model, texts[job.index]) })));
  const failed = results.filter((r) => r.response.status !== 200);
  t.equal(failed.length, 0, `no request fails (${failed.map((f) => f.response.body?.error?.code).join(',')})`);
  let worst = 1;
  for (const { job, response } of results) if (response.status === 200) worst = Math.min(worst, cosine(response.body.data[0].embedding, reference[job.model][job.index]));
  t.ok(worst >= 0.99999, `every vector equals the reference (min cosine ${worst})`);
  const metricsText = await (await fetch(`${baseUrl}/metrics`)).text();
  const evictions = MODELS.reduce((n, m) => n + metricValue(metricsText, 'sie_model_evictions_total', `model="${m}"`), 0);
  t.ok(evictions >= 1, `evictions counted in /metrics (${evictions})`);
  t.ok(engine.list().filter((m) => m.state === 'loaded').length <= 2, 'never more than two loaded at the end');
  t.ok(engine.usedMemoryBytes() <= engine.memoryBudgetBytes, 'memory within the budget');
  t.ok(metricValue(metricsText, 'sie_memory_budget_bytes') > 0);
  t.match(metricsText, /sie_http_requests_total\{route="\/v1\/embeddings",model="tiny-dense-mean",status_code="200"\} \d+/);
  t.match(metricsText, /sie_requests_total\{model="tiny-dense-mean",endpoint="embeddings",status="success"\} \d+/);
});

t.test('concurrent requests are merged into shared batches, results in order', async (t) => {
  const batches: number[] = [];
  const engine = new Engine({ threads: 2, progress: null, batchWaitMs: 2, observer: { onBatch: (s) => batches.push(s.requests) } });
  t.teardown(() => engine.close());
  await engine.load(referenceModel('tiny-dense-mean'));
  const texts = sentences();
  const results = await Promise.all(texts.map((text) => engine.embed('tiny-dense-mean', [text])));
  results.forEach((r, i) => t.ok(cosine(r.embeddings[0], reference['tiny-dense-mean'][i]) >= 0.99999, `request ${i} got its own vector`));
  await new Promise((resolve) => setImmediate(resolve));  // the observer hears of a batch just after its answers
  t.ok(batches.length < texts.length, `${texts.length} requests ran in ${batches.length} batches`);
  t.ok(Math.max(...batches) > 1, 'some batch served several requests');
});

t.test('one model\'s flood does not starve another', async (t) => {
  const order: string[] = [];
  const engine = new Engine({ threads: 2, progress: null, maxBatchTokens: 256, maxQueuedTokensPerModel: 1e6 });
  t.teardown(() => engine.close());
  await engine.load(referenceModel('tiny-dense-mean'));
  await engine.load(referenceModel('tiny-dense-cls'));
  const long = 'word '.repeat(200);
  const flood = Array.from({ length: 30 }, () => engine.embed('tiny-dense-mean', [long]).then(() => order.push('flood')));
  const other = engine.embed('tiny-dense-cls', ['hello']).then(() => order.push('other'));
  await Promise.all([...flood, other]);
  t.ok(order.indexOf('other') <= 3, `the other model finished at position ${order.indexOf('other')} of ${order.length}`);
});

t.test('a full queue answers 503 with Retry-After (or 429 when configured), never grows without bound', async (t) => {
  for (const overloadStatus of [503, 429] as const) {
    const { baseUrl } = await serve(t, { maxQueuedTokensPerModel: 300, maxBatchTokens: 256 }, { overloadStatus });
    await embed(baseUrl, 'tiny-dense-mean', 'warm up');
    const long = 'word '.repeat(200);
    const responses = await Promise.all(Array.from({ length: 40 }, () => embed(baseUrl, 'tiny-dense-mean', long)));
    const refused = responses.filter((r) => r.status === overloadStatus);
    t.ok(refused.length > 0, `${refused.length} of 40 refused with ${overloadStatus}`);
    t.ok(responses.every((r) => r.status === 200 || r.status === overloadStatus), 'everything else succeeded');
    t.equal(refused[0].headers.get('retry-after'), '1');
    t.equal(refused[0].body.error.code, 'OVERLOADED');
  }
});

t.test('queued work of a cancelled request is dropped', async (t) => {
  const engine = new Engine({ threads: 1, progress: null, maxBatchTokens: 300 });
  t.teardown(() => engine.close());
  await engine.load(referenceModel('tiny-dense-mean'));
  const long = 'word '.repeat(250);
  const busy = engine.embed('tiny-dense-mean', Array(8).fill(long));
  const controller = new AbortController();
  const cancelled = engine.embed('tiny-dense-mean', [long], { signal: controller.signal });
  for (let i = 0; i < 100 && engine.queuedTokens('tiny-dense-mean') === 0; i++) await new Promise((r) => setImmediate(r));
  t.ok(engine.queuedTokens('tiny-dense-mean') > 0, 'queued behind the busy batch');
  controller.abort();
  await t.rejects(cancelled, { message: /cancelled/ });
  await busy;
  t.equal(engine.queuedTokens('tiny-dense-mean'), 0);
});

t.test('API key: required on API routes, compared exactly; health and metrics stay public', async (t) => {
  const { baseUrl } = await serve(t, {}, { apiKey: 'sekrit-key' });
  t.equal((await embed(baseUrl, 'tiny-dense-mean', 'x')).status, 401);
  t.equal((await embed(baseUrl, 'tiny-dense-mean', 'x', { authorization: 'Bearer wrong' })).status, 401);
  t.equal((await embed(baseUrl, 'tiny-dense-mean', 'x', { authorization: 'Bearer sekrit-key-and-more' })).status, 401);
  const ok = await embed(baseUrl, 'tiny-dense-mean', 'x', { authorization: 'Bearer sekrit-key' });
  t.equal(ok.status, 200);
  t.equal((await fetch(`${baseUrl}/healthz`)).status, 200);
  t.equal((await fetch(`${baseUrl}/metrics`)).status, 200);
  t.equal((await fetch(`${baseUrl}/v1/admin/models/tiny-dense-cls/load`, { method: 'POST' })).status, 401, 'admin needs the key');
});

t.test('admin routes load and unload; /v1/models shows the states', async (t) => {
  const { baseUrl } = await serve(t);
  const load = await fetch(`${baseUrl}/v1/admin/models/tiny-dense-cls/load`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pin: true }) });
  t.equal(load.status, 200);
  let models = await (await fetch(`${baseUrl}/v1/models`)).json() as any;
  t.match(models.models, [{ name: 'tiny-dense-cls', state: 'loaded', loaded: true }]);
  const unload = await fetch(`${baseUrl}/v1/admin/models/tiny-dense-cls/unload`, { method: 'POST' });
  t.equal(unload.status, 200);
  models = await (await fetch(`${baseUrl}/v1/models`)).json() as any;
  t.match(models.models.find((m: any) => m.name === 'tiny-dense-cls'), { state: 'available', loaded: false, dims: { dense: 64 } }, 'back to available: servable from its files');
  t.equal((await fetch(`${baseUrl}/v1/admin/models/tiny-dense-cls/unload`, { method: 'POST' })).status, 404);
});

t.test('a failed load reports code, attempts and permanence (502) and does not stop other models', async (t) => {
  const { cpSync, writeFileSync } = await import('node:fs');
  const { tempDir } = await import('./helpers/fixtures.js');
  const dir = tempDir(t);
  cpSync(referenceModel('tiny-dense-mean'), path.join(dir, 'broken'), { recursive: true });
  writeFileSync(path.join(dir, 'broken', 'model.safetensors'), Buffer.alloc(10));
  const { baseUrl } = await serve(t, { modelsDir: [dir, path.join(referenceDir, 'models')] });
  const first = await embed(baseUrl, 'broken', 'x');
  t.equal(first.status, 502);
  t.equal(first.body.error.code, 'BAD_WEIGHTS');
  const second = await embed(baseUrl, 'broken', 'x');
  t.match(second.body.error.message, /permanent/);
  const models = await (await fetch(`${baseUrl}/v1/models`)).json() as any;
  t.match(models.models.find((m: any) => m.name === 'broken'), { state: 'failed', last_error: { code: 'BAD_WEIGHTS', attempts: 1, permanent: true } });
  t.equal((await embed(baseUrl, 'tiny-dense-mean', 'x')).status, 200);
});
