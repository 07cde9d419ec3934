// Every kind of bad input gets a 4xx JSON error naming the problem, and the server keeps serving.
import t from 'tap';
import { referenceModel, tempDir } from './helpers/fixtures.js';
import { postJson, startServer } from './helpers/server.js';
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';

t.test('bad requests to /v1/embeddings', async (t) => {
  const { baseUrl } = await startServer(t, [referenceModel('tiny-dense-mean')], { maxInputsPerRequest: 8, bodyLimitBytes: 64 * 1024 });
  const model = 'tiny-dense-mean';
  const cases: Array<[string, unknown, number, string, string | null]> = [
    ['empty input list', { model, input: [] }, 400, 'INVALID_INPUT', 'input'],
    ['input missing', { model }, 400, 'INVALID_INPUT', 'input'],
    ['model missing', { input: 'x' }, 400, 'INVALID_INPUT', 'model'],
    ['input of the wrong type', { model, input: 42 }, 400, 'INVALID_INPUT', 'input'],
    ['input as an object', { model, input: { text: 'x' } }, 400, 'INVALID_INPUT', 'input'],
    ['nested garbage', { model, input: ['ok', { nested: [1, 2] }] }, 400, 'INVALID_INPUT', 'input[1]'],
    ['mixed list', { model, input: ['ok', [1, 'two']] }, 400, 'INVALID_INPUT', 'input[1]'],
    ['non-integer token id', { model, input: [[101, 1.5, 102]] }, 400, 'INVALID_INPUT', 'input[0][1]'],
    ['out-of-vocab token id', { model, input: [[101, 30522, 102]] }, 400, 'INVALID_INPUT', 'input[0][1]'],
    ['negative token id', { model, input: [[-1]] }, 400, 'INVALID_INPUT', 'input[0][0]'],
    ['empty token list', { model, input: [[]] }, 400, 'INVALID_INPUT', 'input[0]'],
    ['model of the wrong type', { model: 7, input: 'x' }, 400, 'INVALID_INPUT', 'model'],
    ['unknown encoding_format', { model, input: 'x', encoding_format: 'int8' }, 400, 'INVALID_INPUT', 'encoding_format'],
    ['dimensions as a string', { model, input: 'x', dimensions: '8' }, 400, 'INVALID_INPUT', 'dimensions'],
    ['dimensions larger than the model', { model, input: 'x', dimensions: 65 }, 400, 'INVALID_INPUT', 'dimensions'],
    ['unknown model', { model: 'org/unknown', input: 'x' }, 404, 'MODEL_NOT_FOUND', 'model'],
    ['model id walking up the tree', { model: '../../../etc/passwd', input: 'x' }, 404, 'MODEL_NOT_FOUND', 'model'],
    ['absolute model path', { model: referenceModel('tiny-dense-cls'), input: 'x' }, 404, 'MODEL_NOT_FOUND', 'model'],
    ['more inputs than the per-request limit', { model, input: Array(9).fill('x') }, 413, 'TOO_MANY_INPUTS', 'input'],
    ['over-long text with truncation disabled', { model, input: 'word '.repeat(400), truncate: false }, 400, 'INPUT_TOO_LONG', 'input[0]'],
  ];
  for (const [what, body, status, code, param] of cases) {
    const response = await postJson(baseUrl, '/v1/embeddings', body);
    t.equal(response.status, status, `${what}: status`);
    t.equal(response.body?.error?.code, code, `${what}: code`);
    t.equal(response.body?.error?.param, param, `${what}: param`);
    t.type(response.body?.error?.message, 'string', `${what}: message`);
  }
  const oversized = await postJson(baseUrl, '/v1/embeddings', { model, input: 'x'.repeat(70 * 1024) });
  t.equal(oversized.status, 413, 'body over the limit');
  t.equal(oversized.body.error.code, 'BODY_TOO_LARGE');
  const malformed = await postJson(baseUrl, '/v1/embeddings', '{"model": "tiny-dense-mean", "input": [');
  t.equal(malformed.status, 400, 'malformed JSON');
  const ok = await postJson(baseUrl, '/v1/embeddings', { model, input: 'the server is still serving' });
  t.equal(ok.status, 200, 'still serving after all of the above');
});

t.test('empty string and long text with truncation give valid unit embeddings', async (t) => {
  const { baseUrl } = await startServer(t);
  const response = await postJson(baseUrl, '/v1/embeddings', { model: 'tiny-dense-mean', input: ['', 'word '.repeat(1000)] });
  t.equal(response.status, 200);
  for (const item of response.body.data) t.ok(Math.abs(Math.hypot(...item.embedding) - 1) < 1e-5);
  t.equal(response.body.usage.prompt_tokens, 2 + 256, 'empty = [CLS][SEP]; long text truncated at max_seq_length 256');
});

t.test('a corrupt model fails alone with 502 and a clear error; the server keeps serving', async (t) => {
  const dir = tempDir(t);
  const broken = path.join(dir, 'corrupt-model');
  cpSync(referenceModel('tiny-dense-mean'), broken, { recursive: true });
  writeFileSync(path.join(broken, 'model.safetensors'), 'not a safetensors file at all');
  const { baseUrl } = await startServer(t, [referenceModel('tiny-dense-mean'), broken]);
  const failed = await postJson(baseUrl, '/v1/embeddings', { model: 'corrupt-model', input: 'x' });
  t.equal(failed.status, 502);
  t.equal(failed.body.error.code, 'BAD_WEIGHTS');
  t.match(failed.body.error.message, /header length/);
  const models = await (await fetch(`${baseUrl}/v1/models`)).json() as any;
  t.equal(models.models.find((m: any) => m.name === 'corrupt-model').state, 'failed');
  const ok = await postJson(baseUrl, '/v1/embeddings', { model: 'tiny-dense-mean', input: 'x' });
  t.equal(ok.status, 200);
});

t.test('health and readiness', async (t) => {
  const { baseUrl } = await startServer(t);
  t.same(await (await fetch(`${baseUrl}/healthz`)).json(), { status: 'ok' });
  t.same(await (await fetch(`${baseUrl}/readyz`)).json(), { status: 'ready' });
  const missing = await fetch(`${baseUrl}/v1/nothing-here`);
  t.equal(missing.status, 404);
});
