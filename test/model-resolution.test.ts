// Model ids resolve to directories in the documented order, and HTTP-style ids cannot escape.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { isSafeModelId } from '../lib/models/model-id.js';
import { findLocalModel, resolveModel, type ResolverOptions } from '../lib/models/model-resolver.js';
import { readModelSpec } from '../lib/models/model-config.js';
import { referenceModel, sharedDir, tempDir } from './helpers/fixtures.js';

function options(modelsDirs: string[], hubCacheDir: string): ResolverOptions {
  return { modelsDirs, hubCacheDir, hubEndpoint: 'http://127.0.0.1:9', offline: true, progress: null };
}

t.test('safe model ids', async (t) => {
  for (const id of ['all-MiniLM-L6-v2', 'sentence-transformers/all-MiniLM-L6-v2', 'BAAI/bge-small-en-v1.5']) t.ok(isSafeModelId(id), id);
  for (const id of ['', '..', '../x', 'a/../b', '/etc/passwd', 'a/b/c', 'a\\b', '.hidden', 'x/..', 'a b', '%2e%2e']) t.notOk(isSafeModelId(id), JSON.stringify(id));
});

t.test('resolution order: directory path, models dir (org/name, then name), HF cache', async (t) => {
  const root = tempDir(t);
  const modelsDir = path.join(root, 'models');
  const hubCache = path.join(root, 'hub');
  cpSync(referenceModel('tiny-dense-mean'), path.join(modelsDir, 'org-a', 'model-a'), { recursive: true });
  cpSync(referenceModel('tiny-dense-cls'), path.join(modelsDir, 'model-b'), { recursive: true });
  const snapshot = path.join(hubCache, 'models--org-c--model-c', 'snapshots', 'b'.repeat(40));
  cpSync(referenceModel('tiny-dense-mean'), snapshot, { recursive: true });
  mkdirSync(path.join(hubCache, 'models--org-c--model-c', 'refs'), { recursive: true });
  writeFileSync(path.join(hubCache, 'models--org-c--model-c', 'refs', 'main'), 'b'.repeat(40));
  const opts = options([modelsDir], hubCache);
  const trusted = { allowPaths: true, allowDownload: false };
  const untrusted = { allowPaths: false, allowDownload: false };
  t.equal(findLocalModel(referenceModel('tiny-dense-cls'), opts, trusted), referenceModel('tiny-dense-cls'));
  t.equal(findLocalModel(referenceModel('tiny-dense-cls'), opts, untrusted), undefined, 'paths are refused for untrusted callers');
  t.equal(findLocalModel('org-a/model-a', opts, untrusted), path.join(modelsDir, 'org-a', 'model-a'));
  t.equal(findLocalModel('model-b', opts, untrusted), path.join(modelsDir, 'model-b'));
  t.equal(findLocalModel('some-org/model-b', opts, untrusted), path.join(modelsDir, 'model-b'), '<dir>/<name> for an org/name id');
  t.equal(findLocalModel('org-c/model-c', opts, untrusted), snapshot);
  t.equal(findLocalModel('../models/model-b', opts, untrusted), undefined);
  await t.rejects(resolveModel('org-x/missing', opts, untrusted), { code: 'MODEL_NOT_FOUND' });
});

t.test('pooling, normalisation and max length come from the sentence-transformers files', async (t) => {
  const mean = readModelSpec(referenceModel('tiny-dense-mean'));
  t.match(mean, { head: { kind: 'dense', pooling: 'mean', normalize: true }, maxSeqLength: 256 });
  t.match(readModelSpec(referenceModel('tiny-dense-cls')), { head: { pooling: 'cls', normalize: true } });
  // The real all-MiniLM-L6-v2 files: mean pooling, Normalize, 256 tokens, 384 dims.
  const dir = tempDir(t);
  cpSync(path.join(sharedDir, 'models', 'all-MiniLM-L6-v2'), dir, { recursive: true });
  writeFileSync(path.join(dir, 'model.safetensors'), '');
  t.match(readModelSpec(dir), { head: { pooling: 'mean', normalize: true }, maxSeqLength: 256, encoder: { hiddenSize: 384, numLayers: 6, numHeads: 12, intermediateSize: 1536 } });
});

t.test('a bare transformer gets mean pooling without normalisation, as sentence-transformers does', async (t) => {
  const dir = tempDir(t);
  cpSync(referenceModel('tiny-dense-mean'), dir, { recursive: true });
  rmSync(path.join(dir, 'modules.json'));
  rmSync(path.join(dir, 'sentence_bert_config.json'));
  t.match(readModelSpec(dir), { head: { kind: 'dense', pooling: 'mean', normalize: false }, maxSeqLength: 512 });
});

t.test('model families are detected from architectures and sentence-transformers modules', async (t) => {
  t.match(readModelSpec(referenceModel('tiny-splade')), { head: { kind: 'splade' } });
  t.match(readModelSpec(referenceModel('tiny-colbert')), { head: { kind: 'colbert', outputSize: 16 } });
  t.match(readModelSpec(referenceModel('tiny-cross-encoder')), { head: { kind: 'sequence-classifier', labels: ['LABEL_0'] } });
  t.match(readModelSpec(referenceModel('tiny-classifier')), { head: { kind: 'sequence-classifier', labels: ['negative', 'neutral', 'positive'], multiLabel: false } });
  t.match(readModelSpec(referenceModel('tiny-token-classifier')), { head: { kind: 'token-classifier', labels: ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC'] } });
});

t.test('unsupported configurations are BAD_CONFIG with the reason', async (t) => {
  const dir = tempDir(t);
  cpSync(referenceModel('tiny-dense-mean'), dir, { recursive: true });
  writeFileSync(path.join(dir, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode_max_tokens: true }));
  t.throws(() => readModelSpec(dir), { code: 'BAD_CONFIG', message: /max_tokens/ });
  writeFileSync(path.join(dir, 'modules.json'), JSON.stringify([{ type: 'sentence_transformers.models.Pooling', path: '../../etc' }]));
  t.throws(() => readModelSpec(dir), { code: 'BAD_CONFIG', message: /outside the model directory/ });
});
