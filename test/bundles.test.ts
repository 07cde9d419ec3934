// Bundles (--bundle FILE / SIE_BUNDLE, YAML or JSON): validated with errors naming the bad key;
// server settings, preloads and pins; per-model profiles (pooling and normalize against the float64
// reference, templates against the equivalent plain text, default output types, a per-model
// token budget seen in the batch metrics, per-model dtype), named profiles chosen per request;
// SIE's environment names.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parseBundle } from '../lib/bundles/bundle-file.js';
import { buildServeConfig, ConfigError } from '../lib/config.js';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { Engine } from '../lib/engine/engine.js';
import { fillTemplate } from '../lib/engine/loaded-model.js';
import { readableLine } from '../lib/server/readable-log.js';
import { cosine, referenceDir, referenceModel, sentenceTokens, sentences, tempDir, toolsDir } from './helpers/fixtures.js';
import { postJson } from './helpers/server.js';
import { serveProcess } from './helpers/server-process.js';

t.test('bundle validation names the bad key', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['models: []', /models must NOT have fewer than 1 items/],
    ['models:\n  - source: x', /models\.0 needs 'id'/],
    ['models:\n  - id: a\n    profiles:\n      default:\n        dtyp: bf16', /unknown key 'models\.0\.profiles\.default\.dtyp'/],
    ['models:\n  - id: a\n    profiles:\n      default:\n        dtype: fp8', /models\.0\.profiles\.default\.dtype must be one of fp32, fp16, bf16, bf16x3, bf16x3q, auto/],
    ['models:\n  - id: a\n    profiles:\n      default:\n        query_template: "query: "', /models\.0\.profiles\.default\.query_template must contain \{text\}/],
    ['models:\n  - id: a\n    profiles:\n      default:\n        output_types: [dense, image]', /output_types\.1 must be one of dense, sparse, multivector/],
    ['server:\n  prot: 8080\nmodels:\n  - id: a', /unknown key 'server\.prot'/],
    ['models:\n  - id: a\n  - id: a', /model 'a' is listed twice/],
    ['models: [', /not valid YAML/],
  ];
  for (const [text, message] of cases) t.throws(() => parseBundle(text, 'bundle.yaml'), { message }, message.source);
  const fromJson = parseBundle(JSON.stringify({ models: [{ id: 'a', profiles: { default: { max_batch_tokens: 64, query_template: 'q: {text}' } } }] }), 'bundle.json');
  t.same(fromJson.models[0], { id: 'a', source: undefined, preload: true, pin: false, profiles: { default: { maxBatchTokens: 64, queryTemplate: 'q: {text}' } } });
});

t.test('SIE environment names and the bundle in the serve configuration', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'bundle.yaml');
  writeFileSync(file, 'server:\n  port: 9000\n  max-batch-tokens: 512\nmodels:\n  - id: a\n  - id: b\n    preload: false\n    pin: true\n');
  const config = buildServeConfig(['--port', '9100'], { SIE_BUNDLE: file, SIE_DEVICE: 'cpu', SIE_LOG_LEVEL: 'warn', SIE_LOG_JSON: '0' });
  t.equal(config.port, 9100, 'the command line wins over the bundle');
  t.equal(config.maxBatchTokens, 512, 'the bundle wins over defaults');
  t.same(config.models, ['a'], 'preloaded: the models without preload: false');
  t.same(config.pinned, ['b']);
  t.equal(config.logLevel, 'warn');
  t.equal(config.logJson, false);
  t.same(buildServeConfig([], { SIE_PRELOAD_MODELS: 'x, y' }).models, ['x', 'y']);
  let missing: unknown;
  try {
    buildServeConfig(['--bundle', path.join(dir, 'missing.yaml')], {});
  } catch (error) {
    missing = error;
  }
  t.ok(missing instanceof ConfigError && /cannot read bundle .*missing\.yaml/.test(missing.message), 'a missing bundle is a configuration error naming the file');
  t.throws(() => buildServeConfig([], { SIE_LOG_JSON: 'maybe' }), { message: /SIE_LOG_JSON/ });
  t.equal(readableLine('{"level":30,"time":0,"msg":"model loaded","model":"a","dims":{"dense":64},"pid":1}'), '00:00:00 INFO model loaded model=a dims={"dense":64}');
  t.equal(fillTemplate('Instruct: {instruction}\nQuery: {text} {{literal}}', 'hi', 'find'), 'Instruct: find\nQuery: hi {literal}');
});

t.test('a served bundle: profiles at load and per request', async (t) => {
  const dir = tempDir(t);
  const models = path.join(dir, 'models');
  cpSync(referenceModel('tiny-dense-mean'), path.join(models, 'minilm'), { recursive: true });
  cpSync(referenceModel('tiny-splade'), path.join(models, 'splade'), { recursive: true });
  const bundle = path.join(dir, 'bundle.yaml');
  writeFileSync(bundle, `
name: test
server:
  batch-wait-ms: 5
models:
  - id: cls-pooled
    source: minilm
    profiles:
      default:
        pooling: cls
        normalize: false
  - id: templated
    source: minilm
    profiles:
      default:
        query_template: "query: {text}"
        doc_template: "passage: {text}"
        max_batch_tokens: 32
      verbose:
        query_template: "{instruction} :: {text}"
        instruction: "find it"
  - id: sparse-first
    source: splade
    preload: false
    profiles:
      default:
        output_types: [sparse]
`);
  const url = await serveProcess(t, models, ['--bundle', bundle]);
  const json = { accept: 'application/json' };
  const texts = sentences().slice(0, 8);
  const dense = (body: { items: Array<{ dense: number[] | { values: number[] } }> }) => body.items.map((i) => (Array.isArray(i.dense) ? i.dense : i.dense.values));

  // Pooling and normalize from the profile, against the float64 reference of the same change.
  const changed = path.join(dir, 'cls-reference');
  cpSync(referenceModel('tiny-dense-mean'), changed, { recursive: true });
  writeFileSync(path.join(changed, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: 64, pooling_mode_cls_token: true, pooling_mode_mean_tokens: false }));
  writeFileSync(path.join(changed, 'modules.json'), JSON.stringify(JSON.parse(readFileSync(path.join(changed, 'modules.json'), 'utf8')).filter((m: { type: string }) => !m.type.endsWith('Normalize'))));
  const tokensFile = path.join(dir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify(sentenceTokens().slice(0, 8)));
  const reference = JSON.parse(execFileSync('/usr/bin/python3', [path.join(toolsDir, 'ref_forward.py'), changed, tokensFile, 'dense'], { encoding: 'utf8' })) as number[][];
  const pooled = await postJson(url, '/v1/encode/cls-pooled', { items: texts.map((text) => ({ text })) }, json);
  t.equal(pooled.status, 200);
  dense(pooled.body).forEach((v, i) => {
    t.ok(cosine(v, reference[i]) >= 0.99999, `cls pooling ${i}`);
    t.ok(Math.abs(Math.hypot(...v) - Math.hypot(...reference[i])) < 1e-4, `not normalised ${i}`);
  });

  // Templates: SIE encode with is_query true equals OpenAI's embedding of "query: " + text.
  const query = await postJson(url, '/v1/encode/templated', { items: texts.map((text) => ({ text })), params: { options: { is_query: true } } }, json);
  const passage = await postJson(url, '/v1/encode/templated', { items: texts.map((text) => ({ text })) }, json);
  const plain = async (prefix: string) => ((await postJson(url, '/v1/embeddings', { model: 'templated', input: texts.map((x) => `${prefix}${x}`) })).body as { data: Array<{ embedding: number[] }> }).data.map((d) => d.embedding);
  const [withQuery, withPassage] = [await plain('query: '), await plain('passage: ')];
  dense(query.body).forEach((v, i) => t.ok(cosine(v, withQuery[i]) >= 0.99999, `query template ${i}`));
  dense(passage.body).forEach((v, i) => t.ok(cosine(v, withPassage[i]) >= 0.99999, `doc template ${i}`));
  const verbose = await postJson(url, '/v1/encode/templated', { items: [{ text: texts[1] }], params: { options: { is_query: true, profile: 'verbose' } } }, json);
  const withInstruction = await plain('find it :: ');
  t.ok(cosine(dense(verbose.body)[0], withInstruction[1]) >= 0.99999, 'a named profile\'s template and instruction');
  const unknown = await postJson(url, '/v1/encode/templated', { items: [{ text: 'x' }], params: { options: { profile: 'nope' } } }, json);
  t.equal(unknown.status, 400);
  t.match(JSON.stringify(unknown.body), /no profile 'nope' \(profiles: default, verbose\)/);

  // The per-model token budget: every native batch of this model held at most 32 tokens.
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const count = Number(/sie_batch_tokens_count\{model="templated"\} (\d+)/.exec(metrics)?.[1]);
  const small = Number(/sie_batch_tokens_bucket\{le="64",model="templated"\} (\d+)/.exec(metrics)?.[1]);
  t.ok(count > 4 && small === count, `all ${count} batches within the 32-token budget`);

  // Default output types, and preload: false.
  t.notOk((await (await fetch(`${url}/v1/models`)).text()).includes('"sparse-first","state":"loaded"'), 'not preloaded');
  const sparse = await postJson(url, '/v1/encode/sparse-first', { items: [{ text: 'hello world' }] }, json);
  t.same(Object.keys(sparse.body.items[0]).sort(), ['sparse'], 'the profile\'s output types when the request names none');
});

t.test('per-model dtype from a bundle profile', { skip: nativeAddon().openBackend({ threads: 1 }).dtypes.includes('bf16') ? false : 'no native bf16 on this CPU' }, async (t) => {
  const engine = new Engine({ threads: 2, progress: null, models: [{ id: 'fast', source: referenceModel('tiny-dense-mean'), profiles: { default: { dtype: 'bf16' } } }] });
  t.teardown(() => engine.close());
  t.equal((await engine.load('fast')).dtype, 'bf16', 'the profile\'s dtype');
  t.equal((await engine.load(referenceModel('tiny-dense-cls'))).dtype, 'fp32', 'the engine default for the others');
  const reference = JSON.parse(readFileSync(path.join(referenceDir, 'outputs', 'tiny-dense-mean.dense.json'), 'utf8')) as number[][];
  const { embeddings } = await engine.embed('fast', sentences().slice(0, 4));
  embeddings.forEach((e, i) => t.ok(cosine(e, reference[i]) >= 0.999, `bf16 ${i}`));
});
