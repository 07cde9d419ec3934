// The hub downloader against a local HTTP server that serves a model in the hub's URL layout:
// /api/models/{id}/revision/{rev} and /{id}/resolve/{sha}/{file}.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import t from 'tap';
import { Engine } from '../lib/engine/engine.js';
import { downloadSnapshot, isWantedFile } from '../lib/models/hub-download.js';
import { cosine, readJson, referenceDir, referenceModel, tempDir } from './helpers/fixtures.js';

const MODEL_ID = 'test-org/tiny-dense-mean';
const SHA = 'a'.repeat(40);
const sourceDir = referenceModel('tiny-dense-mean');

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(dir, path.posix.join(prefix, e.name)) : [path.posix.join(prefix, e.name)]);
}

interface HubBehaviour {
  /** Cut the connection after this many bytes of model.safetensors, for the first N requests. */
  cutAfterBytes?: number;
  cutTimes?: number;
  /** Serve a corrupted body for model.safetensors while advertising the real sha256. */
  corrupt?: boolean;
  requests: string[];
  ranges: string[];
}

async function startHub(t: { teardown: (fn: () => Promise<void>) => void }, behaviour: HubBehaviour): Promise<string> {
  const files = listFiles(sourceDir).concat(['pytorch_model.bin', 'onnx/model.onnx']);
  let cuts = 0;
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    behaviour.requests.push(url);
    if (req.headers.authorization !== 'Bearer secret-token') {
      res.writeHead(401).end();
      return;
    }
    if (url === `/api/models/${MODEL_ID}/revision/main`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: MODEL_ID, sha: SHA, siblings: files.map((rfilename) => ({ rfilename })) }));
      return;
    }
    const prefix = `/${MODEL_ID}/resolve/${SHA}/`;
    if (!url.startsWith(prefix)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Repository not found"}');
      return;
    }
    const file = url.slice(prefix.length);
    const local = path.join(sourceDir, file);
    if (!existsSync(local)) {
      res.writeHead(404).end();
      return;
    }
    let body = readFileSync(local);
    const sha256 = createHash('sha256').update(body).digest('hex');
    if (behaviour.corrupt && file === 'model.safetensors') body = Buffer.from(body.map((b, i) => (i === 5000 ? b ^ 0xff : b)));
    let start = 0;
    const range = req.headers.range;
    if (range) {
      behaviour.ranges.push(`${file} ${range}`);
      start = Number(/bytes=(\d+)-/.exec(range)?.[1] ?? 0);
    }
    const headers: Record<string, string | number> = { 'content-length': body.length - start, 'x-linked-etag': `"${sha256}"` };
    if (range) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(range ? 206 : 200, headers);
    const cut = behaviour.cutAfterBytes !== undefined && file === 'model.safetensors' && cuts < (behaviour.cutTimes ?? 1);
    if (cut) {
      cuts++;
      res.write(body.subarray(start, start + behaviour.cutAfterBytes!), () => res.socket?.destroy());
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

t.test('configs, tokenizers and weights are fetched: safetensors where a folder has them, torch checkpoints only where it has none; never ONNX', async (t) => {
  t.ok(isWantedFile('config.json'));
  t.ok(isWantedFile('1_Pooling/config.json'));
  t.ok(isWantedFile('model.safetensors'));
  t.ok(isWantedFile('vocab.txt'));
  t.notOk(isWantedFile('onnx/model.onnx'));
  t.notOk(isWantedFile('../escape.json'));
  const both = ['config.json', 'model.safetensors', 'pytorch_model.bin', 'colbert_linear.pt', 'sparse_linear.pt', 'onnx/model.onnx'];
  t.same(both.filter((f) => isWantedFile(f, both)), ['config.json', 'model.safetensors', 'colbert_linear.pt', 'sparse_linear.pt'], 'bge-m3-like: safetensors wins, the heads come along');
  const binOnly = ['config.json', 'pytorch_model.bin', '1_Dense/config.json', '1_Dense/model.safetensors'];
  t.same(binOnly.filter((f) => isWantedFile(f, binOnly)), binOnly, 'a folder without safetensors gets its pytorch_model.bin');
  const sharded = ['config.json', 'pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin', 'pytorch_model.bin.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json'];
  t.same(sharded.filter((f) => isWantedFile(f, sharded)), ['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json'], 'sharded: the safetensors shards and their index only');
});

t.test('downloads a snapshot into the HF cache layout and serves it, with the token sent', async (t) => {
  const behaviour: HubBehaviour = { requests: [], ranges: [] };
  const endpoint = await startHub(t, behaviour);
  const hfHome = tempDir(t);
  const engine = new Engine({ threads: 1, progress: null, env: { HF_HOME: hfHome, HF_ENDPOINT: endpoint, HF_TOKEN: 'secret-token' } });
  t.teardown(() => engine.close());
  const { embeddings } = await engine.embed(MODEL_ID, ['hello world!']);
  const reference = readJson<number[][]>(path.join(referenceDir, 'outputs', 'tiny-dense-mean.dense.json'));
  t.ok(cosine(embeddings[0], reference[0]) >= 0.99999, 'the downloaded model gives the reference vector');
  const snapshot = path.join(hfHome, 'hub', 'models--test-org--tiny-dense-mean', 'snapshots', SHA);
  t.ok(existsSync(path.join(snapshot, '1_Pooling', 'config.json')));
  t.equal(readFileSync(path.join(hfHome, 'hub', 'models--test-org--tiny-dense-mean', 'refs', 'main'), 'utf8'), SHA);
  t.notOk(behaviour.requests.some((r) => r.endsWith('pytorch_model.bin') || r.includes('onnx')), 'no pickle or onnx requested');

  // A second engine finds the cache and asks the hub nothing, also when offline.
  const before = behaviour.requests.length;
  const offline = new Engine({ threads: 1, progress: null, env: { HF_HOME: hfHome, HF_ENDPOINT: endpoint, HF_HUB_OFFLINE: '1' } });
  t.teardown(() => offline.close());
  await offline.load(MODEL_ID);
  t.equal(behaviour.requests.length, before);
});

t.test('a model the hub does not have is MODEL_NOT_FOUND', async (t) => {
  const endpoint = await startHub(t, { requests: [], ranges: [] });
  const engine = new Engine({ threads: 1, progress: null, env: { HF_HOME: tempDir(t), HF_ENDPOINT: endpoint, HF_TOKEN: 'secret-token' } });
  t.teardown(() => engine.close());
  await t.rejects(engine.load('test-org/does-not-exist'), { code: 'MODEL_NOT_FOUND' });
});

t.test('HF_HUB_OFFLINE never downloads', async (t) => {
  const behaviour: HubBehaviour = { requests: [], ranges: [] };
  const endpoint = await startHub(t, behaviour);
  const engine = new Engine({ threads: 1, progress: null, env: { HF_HOME: tempDir(t), HF_ENDPOINT: endpoint, HF_HUB_OFFLINE: '1' } });
  t.teardown(() => engine.close());
  await t.rejects(engine.load(MODEL_ID), { code: 'MODEL_NOT_FOUND', message: /HF_HUB_OFFLINE/ });
  t.equal(behaviour.requests.length, 0);
});

t.test('a connection cut mid-file leaves no trusted file, and the next attempt resumes with Range', async (t) => {
  const behaviour: HubBehaviour = { requests: [], ranges: [], cutAfterBytes: 300000 };
  const endpoint = await startHub(t, behaviour);
  const cacheDir = tempDir(t);
  const progress: string[] = [];
  const sink = { write: (s: string) => { progress.push(s); return true; } } as unknown as NodeJS.WritableStream;
  const options = { endpoint, token: 'secret-token', cacheDir, progress: sink };
  await t.rejects(downloadSnapshot(MODEL_ID, options), { code: 'DOWNLOAD_FAILED', message: /cut off|ended at/ });
  const snapshot = path.join(cacheDir, 'models--test-org--tiny-dense-mean', 'snapshots', SHA);
  t.notOk(existsSync(path.join(snapshot, 'model.safetensors')), 'no model.safetensors after a cut');
  const partial = path.join(snapshot, 'model.safetensors.incomplete');
  const kept = statSync(partial).size;
  t.ok(kept > 0 && kept <= 300000, `the partial file is kept for resuming (${kept} bytes)`);
  t.ok(progress.some((line) => line.includes('interrupted model.safetensors')), 'progress reports the interruption');

  const dir = await downloadSnapshot(MODEL_ID, options);
  t.same(behaviour.ranges, [`model.safetensors bytes=${kept}-`], 'resumed from the partial file');
  t.same(readFileSync(path.join(dir, 'model.safetensors')), readFileSync(path.join(sourceDir, 'model.safetensors')), 'byte-identical');
  t.notOk(existsSync(partial));
});

t.test('a body that does not match the hub\'s sha256 is discarded, never trusted', async (t) => {
  const endpoint = await startHub(t, { requests: [], ranges: [], corrupt: true });
  const cacheDir = tempDir(t);
  await t.rejects(downloadSnapshot(MODEL_ID, { endpoint, token: 'secret-token', cacheDir, progress: null }), { code: 'DOWNLOAD_FAILED', message: /sha256/ });
  const snapshot = path.join(cacheDir, 'models--test-org--tiny-dense-mean', 'snapshots', SHA);
  t.notOk(existsSync(path.join(snapshot, 'model.safetensors')));
  t.notOk(existsSync(path.join(snapshot, 'model.safetensors.incomplete')));
});
