// ModernBERT's reranker and ColBERT variants against transformers in float64 on seeded
// checkpoints that transformers itself wrote (test/rope/modernbert_variants.py):
//  - ModernBertForSequenceClassification with classifier_pooling cls (no norm bias) and mean
//    (norm and classifier biases): the engine's logits within 1e-4, scores their sigmoid;
//  - ModernBERT + PyLate Dense: per-token unit vectors, cosine >= 0.99999, inputs longer than
//    the sliding window included.
// Through the engine and SIE's /v1/score/{model} route.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Engine } from '../lib/engine/engine.js';
import { cosine, readJson, referenceDir, repoRoot, sentences, sharedDir, tempDir } from './helpers/fixtures.js';
import { postJson, serveEngine } from './helpers/server.js';

const venvPython = path.join(repoRoot, '.venv-peers', 'bin', 'python');
const skip = existsSync(venvPython) ? false : 'needs .venv-peers (torch, transformers)';

interface References {
  'reranker-cls': number[];
  'reranker-mean': number[];
  colbert: number[][][];
  colbert_lengths: number[];
}

t.test('ModernBERT rerankers and ColBERT against transformers float64', { skip }, async (t) => {
  const dir = tempDir(t, 'sie-modernbert-');
  const refs = JSON.parse(execFileSync(venvPython, [path.join(repoRoot, 'test', 'rope', 'modernbert_variants.py'),
    path.join(sharedDir, 'models', 'modernbert-tokenizer'), dir, path.join(referenceDir, 'sentences.json'), path.join(referenceDir, 'pairs.json')],
  { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] })) as References;
  const pairs = readJson<Array<[string, string]>>(path.join(referenceDir, 'pairs.json'));
  const engine = new Engine({ threads: 2, modelsDir: dir, progress: null });
  t.teardown(() => engine.close());

  for (const name of ['reranker-cls', 'reranker-mean'] as const) {
    const model = await engine.load(name);
    t.equal(model.family, 'modernbert-cross-encoder', `${name} is served as a ModernBERT cross-encoder`);
    let worst = 0;
    for (const [i, [query, document]] of pairs.entries()) {
      const { scores } = await engine.withModel(name, {}, (m) => m.score(query, [document]));
      const want = 1 / (1 + Math.exp(-refs[name][i]));
      worst = Math.max(worst, Math.abs(scores[0] - want));
    }
    t.ok(worst <= 1e-5, `${name}: max |score - sigmoid(transformers logit)| ${worst.toExponential(2)} over ${pairs.length} pairs`);
  }

  const texts = sentences();
  const colbert = await engine.load('colbert');
  t.equal(colbert.family, 'modernbert-colbert');
  t.ok(Math.max(...refs.colbert_lengths) > 8, 'some inputs are longer than the 8-token sliding window');
  const encoded = await engine.withModel('colbert', {}, (m) => m.encode(texts, { outputTypes: ['multivector'] }));
  let worst = 1;
  encoded.items.forEach((item, i) => {
    const mv = item.multivector!;
    t.equal(mv.numTokens, refs.colbert[i].length, `text ${i}: one vector per token`);
    for (let r = 0; r < mv.numTokens; r++) worst = Math.min(worst, cosine(mv.values.subarray(r * 16, (r + 1) * 16), refs.colbert[i][r]));
  });
  t.ok(worst >= 0.99999, `ColBERT token vectors: min cosine ${worst.toFixed(7)}`);

  // SIE's score route on the same model.
  const server = await serveEngine(t, { threads: 2, modelsDir: dir });
  const [query, document] = pairs[0];
  const response = await postJson(server.baseUrl, '/v1/score/reranker-mean', { query: { text: query }, items: [{ text: document }] }, { accept: 'application/json' });
  t.equal(response.status, 200, JSON.stringify(response.body));
  const score = response.body.scores?.[0]?.score;
  t.ok(Math.abs(score - 1 / (1 + Math.exp(-refs['reranker-mean'][0]))) <= 1e-5, `/v1/score: ${score}`);
});
