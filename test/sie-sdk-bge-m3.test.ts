// bge-m3 through SIE's official SDKs, unmodified, against a real `sie-server serve` process:
// dense, sparse and multivector from one encode call (safetensors and pytorch_model.bin weights),
// a sparse-only call, and an XLM-R reranker's scores. Expected values: ../shared/reference.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { python, pythonSdkEnv, skipWithoutPythonSdk } from './helpers/python-sdk.js';
import { serveProcess } from './helpers/server-process.js';
import { cosine, readJson, referenceDir, referenceModel, repoRoot, sentences, sharedDir, tempDir } from './helpers/fixtures.js';

const tsSdkEntry = path.join(sharedDir, 'sie-sdk', 'ts', 'src', 'index.ts');

interface BgeM3Reference {
  dense: number[];
  sparse: { indices: number[]; values: number[] };
  multivector: number[][];
}
interface SdkItem {
  dense: number[];
  sparse: { indices: number[]; values: number[] };
  multivector: number[][];
}

function checkItems(t: Test, items: SdkItem[], reference: BgeM3Reference[], label: string) {
  t.equal(items.length, reference.length);
  let dense = 1, token = 1, weight = 0;
  items.forEach((item, i) => {
    const ref = reference[i];
    dense = Math.min(dense, cosine(item.dense, ref.dense));
    t.equal(item.multivector.length, ref.multivector.length, `${label} ${i}: multivector rows`);
    item.multivector.forEach((v, r) => (token = Math.min(token, cosine(v, ref.multivector[r]))));
    t.same([...item.sparse.indices].sort((a, b) => a - b), [...ref.sparse.indices].sort((a, b) => a - b), `${label} ${i}: sparse terms`);
    const ours = new Map(item.sparse.indices.map((id, j) => [id, item.sparse.values[j]]));
    ref.sparse.indices.forEach((id, j) => (weight = Math.max(weight, Math.abs((ours.get(id) ?? Infinity) - ref.sparse.values[j]))));
  });
  t.ok(dense >= 0.99999, `${label}: dense min cosine ${dense}`);
  t.ok(token >= 0.99999, `${label}: multivector min cosine ${token}`);
  t.ok(weight <= 1e-4, `${label}: sparse max |diff| ${weight}`);
}

async function serve(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const modelsDir = tempDir(t);
  cpSync(referenceModel('tiny-bge-m3'), path.join(modelsDir, 'BAAI', 'bge-m3'), { recursive: true });
  cpSync(referenceModel('tiny-bge-m3-bin'), path.join(modelsDir, 'BAAI', 'bge-m3-bin'), { recursive: true });
  cpSync(referenceModel('tiny-xlmr-rerank'), path.join(modelsDir, 'BAAI', 'bge-reranker-v2-m3'), { recursive: true });
  return serveProcess(t, modelsDir, ['-m', 'BAAI/bge-m3']);
}

const texts = sentences().slice(0, 8);
const reference = (model: string) => readJson<BgeM3Reference[]>(path.join(referenceDir, 'outputs', `${model}.bge-m3.json`)).slice(0, 8);

t.test('bge-m3 through the official Python SDK', { skip: skipWithoutPythonSdk() }, async (t) => {
  const url = await serve(t);
  const pairs = readJson<Array<[string, string]>>(path.join(referenceDir, 'pairs.json'));
  const query = pairs[0][0];
  const documents = pairs.filter((p) => p[0] === query).map((p) => p[1]);
  const got = JSON.parse(execFileSync(python, [path.join(repoRoot, 'test', 'sie-sdk', 'python_bge_m3_session.py'), url, JSON.stringify(texts), JSON.stringify({ query, documents })], { encoding: 'utf8', env: pythonSdkEnv, timeout: 120000 }));
  checkItems(t, got['BAAI/bge-m3'], reference('tiny-bge-m3'), 'safetensors');
  checkItems(t, got['BAAI/bge-m3-bin'], reference('tiny-bge-m3-bin'), 'pytorch_model.bin');
  const first = got['BAAI/bge-m3'][0];
  t.same(first.keys, ['dense', 'multivector', 'sparse'], 'one call, three outputs');
  t.equal(first.dense_dtype, 'float32');
  t.same(first.multivector_shape, [reference('tiny-bge-m3')[0].multivector.length, 64], 'multivector is a tokens x 64 numpy array');
  t.same(got.only_sparse_keys, ['sparse'], 'a sparse-only request answers only sparse');
  const logits = readJson<number[][]>(path.join(referenceDir, 'outputs', 'tiny-xlmr-rerank.xlmr-logits.json')).map((x) => x[0]);
  for (const s of got.scores as Array<{ item_id: string; score: number }>) {
    const index = Number(s.item_id.replace(/\D/g, ''));
    t.ok(Math.abs(s.score - 1 / (1 + Math.exp(-logits[index]))) <= 1e-4, `rerank ${s.item_id}: sigmoid of the reference logit`);
  }
  const ranks = (got.scores as Array<{ rank: number; score: number }>).slice().sort((a, b) => a.rank - b.rank).map((s) => s.score);
  t.same(ranks, ranks.slice().sort((a, b) => b - a), 'ranked best first');
  t.same(got.model.outputs, ['dense', 'sparse', 'multivector']);
});

t.test('bge-m3 through the official TypeScript SDK', { skip: existsSync(tsSdkEntry) ? false : 'no ../shared/sie-sdk/ts' }, async (t) => {
  const dir = tempDir(t);
  const bundle = path.join(dir, 'sie-sdk.mjs');
  const esbuild = await import('esbuild');
  await esbuild.build({ entryPoints: [tsSdkEntry], bundle: true, platform: 'node', format: 'esm', outfile: bundle, nodePaths: [path.join(repoRoot, 'node_modules')], logLevel: 'silent' });
  const url = await serve(t);
  const session = (sdk: string) => JSON.parse(execFileSync(process.execPath, [path.join(repoRoot, 'test', 'sie-sdk', 'ts-bge-m3-session.mjs'), sdk, url, JSON.stringify(texts)], { encoding: 'utf8', timeout: 120000 }));
  checkItems(t, session(bundle), reference('tiny-bge-m3'), 'SIE TS SDK');
  checkItems(t, session(path.join(repoRoot, 'dist', 'lib', 'sdk', 'index.js')), reference('tiny-bge-m3'), 'sie-server/sdk');
});
