/**
 * Run by lifecycle-load.test.ts in a fresh node process (no test-runner instrumentation in the
 * heap): a server, then cycles of 64 concurrent clients over three models, one large request
 * through the tokenizer worker, and an unload of every model. Prints heap and RSS after garbage
 * collection at the end of each cycle, with the engine's leftovers, as one JSON line.
 */
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Engine } from '../../lib/engine/engine.js';
import { buildServer } from '../../lib/server/app.js';
import { referenceDir, sentences } from './fixtures.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const MODELS = ['tiny-dense-mean', 'tiny-dense-cls', 'tiny-dense-mean-f16'];
const cycles = Number(process.argv[2] ?? 20);

const engine = new Engine({ threads: 2, progress: null, modelsDir: path.join(referenceDir, 'models'), env: { HF_HUB_OFFLINE: '1' } });
const app = buildServer({ engine });
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
const texts = sentences();
const large = Array.from({ length: 300 }, (_, i) => `${texts[i % texts.length]} with more words to tokenize`);
const post = (url: string, body?: unknown) => fetch(url, body === undefined ? { method: 'POST' } : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const samples: Array<{ heap: number; rss: number }> = [];
let failures = 0;
for (let i = 0; i < cycles; i++) {
  const responses = await Promise.all(Array.from({ length: 64 }, (_, c) => post(`${base}/v1/embeddings`, { model: MODELS[c % 3], input: texts[c % texts.length] })));
  failures += responses.filter((r) => r.status !== 200).length;
  await Promise.all(responses.map((r) => r.arrayBuffer()));
  await engine.embed('tiny-dense-cls', large);
  for (const model of MODELS) await post(`${base}/v1/admin/models/${model}/unload`);
  gc();
  await new Promise((r) => setTimeout(r, 20));
  gc();
  samples.push({ heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss });
}
const leftovers = { catalogue: engine.list().length, queues: engine.queuedModels, draining: engine.drainingModels, tokenizerWorkers: engine.tokenizerWorkers };
await app.close();
engine.close();
process.stdout.write(`${JSON.stringify({ samples, failures, leftovers })}\n`);
