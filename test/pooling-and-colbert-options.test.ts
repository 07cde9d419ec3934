// Options the shared reference files do not cover, checked against the same independent float64
// forward (../shared/tools/ref_forward.py) run here on the token ids sent to the engine:
// last-token pooling, and PyLate's query/document markers and document skiplist.
import { execFileSync } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Engine } from '../lib/engine/engine.js';
import { cosine, referenceModel, sentences, tempDir, toolsDir } from './helpers/fixtures.js';

function referenceForward(modelDir: string, inputs: Array<{ ids: number[] }>, head: string, dir: string): unknown {
  const file = path.join(dir, `inputs-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(inputs.map((x) => ({ ids: x.ids, type_ids: x.ids.map(() => 0) }))));
  return JSON.parse(execFileSync('python3', [path.join(toolsDir, 'ref_forward.py'), modelDir, file, head], { encoding: 'utf8', maxBuffer: 1 << 28 }));
}

t.test('last-token pooling matches the float64 reference', async (t) => {
  const dir = tempDir(t);
  const model = path.join(dir, 'tiny-last-token');
  cpSync(referenceModel('tiny-dense-mean'), model, { recursive: true });
  writeFileSync(path.join(model, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: 64, pooling_mode_lasttoken: true }));
  const engine = new Engine({ threads: 2, progress: null });
  t.teardown(() => engine.close());
  t.equal((await engine.load(model)).family, 'bert-dense');
  const texts = sentences().slice(0, 8);
  const { embeddings } = await engine.embed(model, texts);
  // Reference on the same ids: [CLS] content [SEP] from our tokenizer (its ids are checked elsewhere).
  const { TextTokenizer } = await import('../lib/engine/tokenization/text-tokenizer.js');
  const tokenizer = new TextTokenizer(model);
  const inputs = texts.map((text) => ({ ids: [101, ...tokenizer.contentIds(text), 102] }));
  const reference = referenceForward(model, inputs, 'dense', dir) as number[][];
  embeddings.forEach((v, i) => t.ok(cosine(v, reference[i]) >= 0.99999, `sentence ${i}`));
});

t.test('ColBERT query and document markers and the document skiplist, as PyLate declares them', async (t) => {
  const dir = tempDir(t);
  const model = path.join(dir, 'tiny-colbert-marked');
  cpSync(referenceModel('tiny-colbert'), model, { recursive: true });
  writeFileSync(path.join(model, 'config_sentence_transformers.json'), JSON.stringify({ query_prefix: '[unused0]', document_prefix: '[unused1]', skiplist_words: ['.', ','] }));
  const engine = new Engine({ threads: 2, progress: null });
  t.teardown(() => engine.close());
  const lease = await engine.acquire(model);
  t.teardown(() => lease.release());
  const loaded = lease.model;
  const text = 'Paris is big, and old.';
  const { TextTokenizer } = await import('../lib/engine/tokenization/text-tokenizer.js');
  const tokenizer = new TextTokenizer(model);
  const content = tokenizer.contentIds(text);
  const [queryIds, documentIds] = [[101, 1, ...content, 102], [101, 2, ...content, 102]];
  const reference = referenceForward(model, [{ ids: queryIds }, { ids: documentIds }], 'colbert', dir) as number[][][];

  const query = (await loaded.encode([text], { outputTypes: ['multivector'], isQuery: true })).items[0].multivector!;
  t.equal(query.numTokens, queryIds.length, 'query: [CLS] [unused0] content [SEP], nothing skipped');
  for (let j = 0; j < query.numTokens; j++) t.ok(cosine(query.values.subarray(j * 16, (j + 1) * 16), reference[0][j]) >= 0.99999, `query token ${j}`);

  const document = (await loaded.encode([text], { outputTypes: ['multivector'], isQuery: false })).items[0].multivector!;
  const punctuation = new Set([tokenizer.idOf('.'), tokenizer.idOf(',')]);
  const kept = documentIds.map((id, j) => [id, j] as const).filter(([id]) => !punctuation.has(id)).map(([, j]) => j);
  t.equal(document.numTokens, kept.length, 'document: the skiplist drops "." and ","');
  kept.forEach((j, row) => t.ok(cosine(document.values.subarray(row * 16, (row + 1) * 16), reference[1][j]) >= 0.99999, `document token ${j}`));
});
