// sentence-transformers prompts (config_sentence_transformers.json) for every family, chosen as
// SIE's sentence-transformers adapter chooses them: is_query picks "query", otherwise "document";
// without a prompt for the role an instruction is prepended as "{instruction} {text}"; the
// default prompt applies where nothing else does. The truth is sentence-transformers itself
// (.venv-peers) loading the same checkpoint, plus the SIE HTTP route end to end.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Engine } from '../lib/engine/engine.js';
import { applyPrompt } from '../lib/families/prompts.js';
import { cosine, referenceModel, repoRoot, sentences, tempDir } from './helpers/fixtures.js';
import { postJson, serveEngine } from './helpers/server.js';

const venvPython = path.join(repoRoot, '.venv-peers', 'bin', 'python');
const texts = sentences().slice(0, 6);
const instruction = 'Represent this for retrieval:';

function withPrompts(t: Parameters<typeof tempDir>[0], source: string, name: string, config: Record<string, unknown>): string {
  const dir = path.join(tempDir(t), name);
  cpSync(referenceModel(source), dir, { recursive: true });
  writeFileSync(path.join(dir, 'config_sentence_transformers.json'), JSON.stringify(config));
  return dir;
}

t.test('prompt choice, by hand', async (t) => {
  const e5 = { query: 'query: ', document: 'passage: ' };
  t.equal(applyPrompt(e5, 'x', { isQuery: true }), 'query: x');
  t.equal(applyPrompt(e5, 'x', { isQuery: false }), 'passage: x');
  t.equal(applyPrompt(e5, 'x', { isQuery: true, instruction: 'ignored' }), 'query: x', 'a prompt for the role wins over an instruction (SIE)');
  t.equal(applyPrompt({}, 'x', { isQuery: true, instruction: 'Find:' }), 'Find: x', 'no prompt: "{instruction} {text}"');
  t.equal(applyPrompt({ query: 'q: ', default: 'd: ' }, 'x', { isQuery: false, instruction: 'Find:' }), 'd: Find: x', 'the default prompt goes in front, as sentence-transformers applies it');
  t.equal(applyPrompt({ query: 'q: ' }, 'x'), 'x', 'no role, no default: the text as given');
});

const stSkip = existsSync(venvPython) ? false : 'needs .venv-peers (sentence-transformers)';

for (const [source, family] of [['tiny-dense-mean', 'bert'], ['tiny-xlmr-dense', 'xlm-roberta']] as const) {
  t.test(`${family}: prompts as sentence-transformers applies them`, { skip: stSkip }, async (t) => {
    const model = withPrompts(t, source, `${source}-prompts`, { prompts: { query: 'query: ', document: 'passage: ', classification: 'classify: ' }, default_prompt_name: 'classification' });
    if (family === 'xlm-roberta') {
      // transformers 5's XLMRobertaTokenizer rebuilds this stand-in tokenizer from its class and
      // drops the file's normalizer (../shared/reference/README.md); load tokenizer.json as is.
      const configPath = path.join(model, 'tokenizer_config.json');
      writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), tokenizer_class: 'PreTrainedTokenizerFast' }));
    }
    const textsFile = path.join(tempDir(t), 'texts.json');
    const used = texts;
    writeFileSync(textsFile, JSON.stringify(used));
    const truth = JSON.parse(execFileSync(venvPython, [path.join(repoRoot, 'test', 'prompts', 'st_prompts.py'), model, textsFile, instruction], { encoding: 'utf8', maxBuffer: 1 << 26 }));
    t.equal(truth.default_prompt_name, 'classification', 'sentence-transformers read the same config');
    const engine = new Engine({ threads: 2, progress: null });
    t.teardown(() => engine.close());
    const lease = await engine.acquire(model);
    t.teardown(() => lease.release());
    const worst = (items: Array<{ dense?: Float32Array }> | Float32Array[], expected: number[][]) =>
      Math.min(...expected.map((e, i) => cosine((items[i] as { dense?: Float32Array }).dense ?? (items[i] as Float32Array), e)));
    const query = await lease.model.encode(used, { isQuery: true });
    t.ok(worst(query.items, truth.query) >= 0.99999, `is_query true = prompt_name "query": ${worst(query.items, truth.query)}`);
    const document = await lease.model.encode(used, { isQuery: false });
    t.ok(worst(document.items, truth.document) >= 0.99999, `is_query false = prompt_name "document": ${worst(document.items, truth.document)}`);
    const plain = await lease.model.embed(used);
    t.ok(worst(plain.embeddings, truth.plain) >= 0.99999, 'OpenAI-style embed = model.encode(texts) with the default prompt');
    t.ok(worst(query.items, truth.plain) < 0.99999, 'and the prompts make a difference here');
  });
}

t.test('SIE route: is_query and instruction reach the model; no prompts means "{instruction} {text}"', { skip: stSkip }, async (t) => {
  const model = withPrompts(t, 'tiny-dense-mean', 'no-prompts', {});
  const textsFile = path.join(tempDir(t), 'texts.json');
  writeFileSync(textsFile, JSON.stringify(texts));
  const truth = JSON.parse(execFileSync(venvPython, [path.join(repoRoot, 'test', 'prompts', 'st_prompts.py'), model, textsFile, instruction], { encoding: 'utf8', maxBuffer: 1 << 26 }));
  const { baseUrl } = await serveEngine(t, { modelsDir: path.dirname(model) });
  const response = await postJson(baseUrl, '/v1/encode/no-prompts', { items: texts.map((text) => ({ text })), params: { instruction, is_query: true } }, { accept: 'application/json' });
  t.equal(response.status, 200);
  const vectors: number[][] = response.body.items.map((item: { dense: { values?: number[] } | number[] }) => (Array.isArray(item.dense) ? item.dense : item.dense.values));
  vectors.forEach((v, i) => t.ok(cosine(v, truth.instructed[i]) >= 0.99999, `item ${i}`));
});
