// Model ids resolve to directories in the documented order, and HTTP-style ids cannot escape.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { isSafeModelId } from '../lib/models/model-id.js';
import { findLocalModel, resolveModel, type ResolverOptions } from '../lib/models/model-resolver.js';
import { adapterFor } from '../lib/families/index.js';
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
  t.match(adapterFor(referenceModel('tiny-dense-mean')), { family: 'bert-dense', description: { head: { kind: 'pooled', pooling: 'mean', normalize: true } }, maxSeqLength: 256 });
  t.match(adapterFor(referenceModel('tiny-dense-cls')), { description: { head: { pooling: 'cls', normalize: true } } });
  // The real all-MiniLM-L6-v2 files: mean pooling, Normalize, 256 tokens, 384 dims.
  const dir = tempDir(t);
  cpSync(path.join(sharedDir, 'models', 'all-MiniLM-L6-v2'), dir, { recursive: true });
  writeFileSync(path.join(dir, 'model.safetensors'), '');
  t.match(adapterFor(dir), {
    description: { head: { kind: 'pooled', pooling: 'mean', normalize: true }, encoder: { hiddenSize: 384, numLayers: 6, numHeads: 12, intermediateSize: 1536 } },
    maxSeqLength: 256,
    encoder: { dims: { dense: 384 } },
  });
});

t.test('a bare transformer gets mean pooling without normalisation, as sentence-transformers does', async (t) => {
  const dir = tempDir(t);
  cpSync(referenceModel('tiny-dense-mean'), dir, { recursive: true });
  rmSync(path.join(dir, 'modules.json'));
  rmSync(path.join(dir, 'sentence_bert_config.json'));
  t.match(adapterFor(dir), { family: 'bert-dense', description: { head: { kind: 'pooled', pooling: 'mean', normalize: false } }, maxSeqLength: 512 });
});

t.test('model families are detected from architectures and sentence-transformers modules', async (t) => {
  t.match(adapterFor(referenceModel('tiny-splade')), { family: 'bert-splade', description: { head: { kind: 'splade' } }, encoder: { outputs: ['sparse'], dims: { sparse: 30522 } } });
  t.match(adapterFor(referenceModel('tiny-colbert')), { family: 'bert-colbert', description: { head: { kind: 'token-projection', outputSize: 16 } }, perTokenOutput: true });
  const crossEncoder = adapterFor(referenceModel('tiny-cross-encoder'));
  t.match(crossEncoder, { family: 'bert-cross-encoder', description: { head: { kind: 'sequence-classifier', outputSize: 1 } } });
  t.ok(crossEncoder.scorer && !crossEncoder.encoder && !crossEncoder.extractor, 'a cross-encoder only scores');
  t.match(adapterFor(referenceModel('tiny-classifier')), { family: 'bert-sequence-classifier', extractor: { labels: ['negative', 'neutral', 'positive'] }, description: { head: { outputSize: 3 } } });
  t.match(adapterFor(referenceModel('tiny-token-classifier')), { family: 'bert-token-classifier', extractor: { labels: ['PER', 'ORG', 'LOC', 'MISC'] }, description: { head: { kind: 'token-classifier', outputSize: 9 } } });
});

t.test('unsupported configurations are BAD_CONFIG with the reason', async (t) => {
  const dir = tempDir(t);
  cpSync(referenceModel('tiny-dense-mean'), dir, { recursive: true });
  writeFileSync(path.join(dir, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode_max_tokens: true }));
  t.throws(() => adapterFor(dir), { code: 'BAD_CONFIG', message: /max_tokens/ });
  writeFileSync(path.join(dir, 'modules.json'), JSON.stringify([{ type: 'sentence_transformers.models.Pooling', path: '../../etc' }]));
  t.throws(() => adapterFor(dir), { code: 'BAD_CONFIG', message: /outside the model directory/ });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', architectures: ['GPT2Model'] }));
  t.throws(() => adapterFor(dir), { code: 'BAD_CONFIG', message: /model_type 'gpt2'.*not supported \(supported: bert, roberta, xlm-roberta, modernbert/ });
  // A family that is supported but whose config lacks a value names the value.
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'modernbert', architectures: ['ModernBertModel'] }));
  t.throws(() => adapterFor(dir), { code: 'BAD_CONFIG', message: /num_hidden_layers must be a positive integer/ });
});
