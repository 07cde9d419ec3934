// Model lifecycle: unloading never fails queued work, the scheduler drops empty queues, dead
// tokenizer workers are replaced, every task tokenizes through the same path, readiness follows
// the preload set, cancellation has its own code, and timing reports real queue time.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Engine } from '../lib/engine/engine.js';
import { cosine, readJson, referenceDir, referenceModel, sentences } from './helpers/fixtures.js';
import { serveEngine } from './helpers/server.js';

const models = path.join(referenceDir, 'models');
const reference = readJson<number[][]>(path.join(referenceDir, 'outputs', 'tiny-dense-mean.dense.json'));
const long = 'word '.repeat(250);

t.test('unloading a model with queued requests: they finish correctly, then it is freed', async (t) => {
  const engine = new Engine({ threads: 1, progress: null, modelsDir: models, maxBatchTokens: 300 });
  t.teardown(() => engine.close());
  await engine.load('tiny-dense-mean');
  const texts = sentences();
  const busy = engine.embed('tiny-dense-mean', Array(6).fill(long));
  const queued = texts.slice(0, 8).map((text) => engine.embed('tiny-dense-mean', [text]));
  for (let i = 0; i < 100 && engine.queuedTokens('tiny-dense-mean') === 0; i++) await new Promise((r) => setImmediate(r));
  t.ok(engine.queuedTokens('tiny-dense-mean') > 0, 'requests are queued behind a busy batch');
  t.ok(engine.unload('tiny-dense-mean'));
  t.equal(engine.status('tiny-dense-mean'), undefined, 'gone from the catalogue at once');
  t.equal(engine.drainingModels, 1, 'but kept until its requests finish');
  const results = await Promise.all(queued);
  await busy;
  results.forEach((r, i) => t.ok(cosine(r.embeddings[0], reference[i]) >= 0.99999, `queued request ${i} got its vector`));
  t.equal(engine.drainingModels, 0, 'freed after the last request');
  t.equal(engine.queuedModels, 0, 'no scheduler queue left behind');
  const again = await engine.embed('tiny-dense-mean', [texts[0]]);
  t.ok(cosine(again.embeddings[0], reference[0]) >= 0.99999, 'a new request loads it afresh');
});

t.test('evicted models leave no queue behind and are freed once idle', async (t) => {
  const probe = new Engine({ threads: 1, progress: null });
  const bytes = (await probe.load(referenceModel('tiny-dense-mean'))).weightBytes;
  probe.close();
  const engine = new Engine({ threads: 1, progress: null, modelsDir: models, memoryBudgetBytes: Math.floor(bytes * 1.6) });
  t.teardown(() => engine.close());
  for (const id of ['tiny-dense-mean', 'tiny-dense-cls', 'tiny-dense-mean', 'tiny-dense-cls']) {
    const { embeddings } = await engine.embed(id, ['hello']);
    t.equal(embeddings[0].length, 64);
    t.equal(engine.list().filter((m) => m.state === 'loaded').length, 1, `only ${id} is loaded`);
  }
  t.equal(engine.queuedModels, 0);
  t.equal(engine.drainingModels, 0);
});

t.test('a cancelled request fails with CANCELLED, not INVALID_INPUT', async (t) => {
  const engine = new Engine({ threads: 1, progress: null, modelsDir: models, maxBatchTokens: 300 });
  t.teardown(() => engine.close());
  await engine.load('tiny-dense-mean');
  const busy = engine.embed('tiny-dense-mean', Array(6).fill(long));
  const controller = new AbortController();
  const cancelled = engine.embed('tiny-dense-mean', [long], { signal: controller.signal });
  for (let i = 0; i < 100 && engine.queuedTokens('tiny-dense-mean') === 0; i++) await new Promise((r) => setImmediate(r));
  controller.abort();
  await t.rejects(cancelled, { code: 'CANCELLED' });
  await busy;
  t.equal(engine.queuedModels, 0, 'the cancelled job\'s queue was dropped');
  const already = new AbortController();
  already.abort();
  await t.rejects(engine.embed('tiny-dense-mean', ['x'], { signal: already.signal }), { code: 'CANCELLED' });
});

t.test('a tokenizer worker that dies is replaced, and its request still succeeds', async (t) => {
  const engine = new Engine({ threads: 1, progress: null, modelsDir: models });
  t.teardown(() => engine.close());
  const texts = Array.from({ length: 400 }, (_, i) => `${sentences()[i % 32]} ${'padding words '.repeat(4)}`);
  const first = await engine.embed('tiny-dense-mean', texts);
  t.equal(engine.tokenizerWorkers, 1, 'large requests went to a worker');
  const pool = (engine as unknown as { tokenizationPool: { terminateWorkers(): Promise<void> } }).tokenizationPool;
  const inFlight = engine.embed('tiny-dense-mean', texts);
  await pool.terminateWorkers();
  const second = await inFlight;
  second.embeddings.forEach((v, i) => {
    if (i % 50 === 0) t.ok(cosine(v, first.embeddings[i]) >= 0.999999, `text ${i} after the worker died`);
  });
  t.equal(engine.tokenizerWorkers, 1, 'a fresh worker took over');
  const third = await engine.embed('tiny-dense-mean', texts);
  t.equal(third.embeddings.length, 400);
});

t.test('score and extract tokenize large requests off the event loop like encode', async (t) => {
  const engine = new Engine({ threads: 1, progress: null, modelsDir: models });
  t.teardown(() => engine.close());
  const documents = Array.from({ length: 300 }, (_, i) => `${sentences()[i % 32]} more text here`);
  const inline = await engine.withModel('tiny-cross-encoder', {}, (m) => m.score('what is it', documents.slice(0, 3)));
  t.equal(engine.tokenizerWorkers, 0, 'a small request is tokenized inline');
  const large = await engine.withModel('tiny-cross-encoder', {}, (m) => m.score('what is it', documents));
  t.equal(engine.tokenizerWorkers, 1, 'a large score request used the worker');
  t.same(large.scores.slice(0, 3), inline.scores, 'same scores either way');
  const small = await engine.withModel('tiny-token-classifier', {}, (m) => m.extract(documents.slice(0, 2)));
  const big = await engine.withModel('tiny-token-classifier', {}, (m) => m.extract(documents));
  t.same(big.items.slice(0, 2), small.items, 'entities with spans are the same from the worker');
});

t.test('readiness follows the preload set: a lazy load does not make the server unready, a failed preload does', async (t) => {
  const { engine, baseUrl: base } = await serveEngine(t, { threads: 1, modelsDir: models });
  t.equal((await fetch(`${base}/readyz`)).status, 200, 'nothing to preload: ready');
  const preloading = engine.preload(['tiny-dense-mean']);
  // The load may finish before an HTTP round trip, so the loading state is read in-process.
  t.same(engine.readiness(), { ready: false, loading: ['tiny-dense-mean'], failed: [] }, 'not ready while a preload runs');
  await preloading;
  t.equal((await fetch(`${base}/readyz`)).status, 200);
  const lazy = engine.load('tiny-dense-cls');
  t.equal((await fetch(`${base}/readyz`)).status, 200, 'a lazy load of another model keeps it ready');
  await lazy;
  const results = await engine.preload(['no-such-model']);
  t.equal(results[0].error?.code, 'MODEL_NOT_FOUND');
  const failed = await fetch(`${base}/readyz`);
  t.equal(failed.status, 503);
  t.match(await failed.json(), { status: 'failed', failed: ['no-such-model'] });
});

t.test('SIE timing reports real queue and tokenization time; the tokenization histogram is observed', async (t) => {
  const { engine, metrics, baseUrl: base } = await serveEngine(t, { threads: 1, modelsDir: models, maxBatchTokens: 300 });
  await engine.load('tiny-dense-mean');
  const busy = engine.embed('tiny-dense-mean', Array(8).fill(long));
  const response = await fetch(`${base}/v1/encode/tiny-dense-mean`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ items: [{ text: 'queued behind a busy batch' }] }) });
  await busy;
  const body = await response.json() as { timing: Record<string, number> };
  t.ok(body.timing.queue_ms > 1, `queue_ms ${body.timing.queue_ms} counts the wait behind the busy batch`);
  t.ok(body.timing.tokenization_ms >= 0 && body.timing.inference_ms > 0);
  t.ok(body.timing.total_ms >= body.timing.queue_ms + body.timing.inference_ms - 1, 'total covers queue and inference');
  const text = await metrics.registry.metrics();
  const count = Number(/sie_tokenization_duration_seconds_count\{model="tiny-dense-mean"\} (\d+)/.exec(text)?.[1] ?? 0);
  t.ok(count >= 2, `tokenization observed ${count} times`);
});

/** CPU time of this process's compute threads (named "sie-compute"), from /proc/self/task/<tid>/stat. */
function computeThreadsCpuMs(): { ms: number; threads: number } {
  const tick = 10;  // USER_HZ is 100 on Linux: utime and stime count 10 ms ticks
  let ms = 0, threads = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() !== 'sie-compute') continue;
      // Fields after the ")" that closes the name: state is field 3, utime 14, stime 15.
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ms += (Number(fields[11]) + Number(fields[12])) * tick;
      threads++;
    } catch {
      // the thread ended between readdir and read
    }
  }
  return { ms, threads };
}

t.test('compute threads spin only during a forward pass: an idle engine uses no CPU, spinning or not', { skip: process.platform === 'linux' ? false : 'reads /proc' }, async (t) => {
  for (const spin of ['0', '100000']) {
    // The pool reads SIE_POOL_SPIN_US when the backend opens; 100 ms is far past the default, so
    // a worker left spinning after a pass would show as about 100 ms of CPU per pass below.
    process.env.SIE_POOL_SPIN_US = spin;
    const engine = new Engine({ threads: 2, progress: null, modelsDir: models });
    delete process.env.SIE_POOL_SPIN_US;
    t.teardown(() => engine.close());
    await engine.load('tiny-dense-mean');
    const texts = sentences();
    for (let i = 0; i < 5; i++) {
      const result = await engine.embed('tiny-dense-mean', texts.slice(0, 8));
      result.embeddings.forEach((v, j) => t.ok(cosine(v, reference[j]) >= 0.99999, `spin ${spin}, pass ${i}, input ${j}`));
    }
    // The compute threads' own CPU time (the process's would also count V8's background GC and
    // compiler threads, which a loaded CI machine can keep busy for 100 ms after a test's work).
    const before = computeThreadsCpuMs();
    await new Promise((r) => setTimeout(r, 300));
    const after = computeThreadsCpuMs();
    t.ok(after.threads >= 1, `${after.threads} compute thread(s) found by name`);
    const ms = after.ms - before.ms;
    t.ok(ms < 40, `spin ${spin}: ${ms.toFixed(1)} ms of compute-thread CPU in the 300 ms after the last pass`);
  }
});
