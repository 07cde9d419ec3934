// The official `openai` npm client against the running server, unchanged but for baseURL.
import OpenAI from 'openai';
import path from 'node:path';
import t from 'tap';
import { cosine, readJson, referenceDir, referenceModel, sentences } from './helpers/fixtures.js';
import { startServer } from './helpers/server.js';

const reference = readJson<number[][]>(path.join(referenceDir, 'outputs', 'tiny-dense-mean.dense.json'));

t.test('openai client: float embeddings match the reference, with usage counting real tokens', async (t) => {
  const { baseUrl } = await startServer(t);
  const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  const texts = sentences().slice(0, 6);
  const response = await client.embeddings.create({ model: 'tiny-dense-mean', input: texts, encoding_format: 'float' });
  t.equal(response.object, 'list');
  t.equal(response.data.length, texts.length);
  response.data.forEach((item, i) => {
    t.equal(item.index, i);
    t.ok(cosine(item.embedding, reference[i]) >= 0.99999, `input ${i}`);
  });
  // [CLS] hello world ! [SEP] = 5, ... the sum of real token counts, specials included.
  t.equal(response.usage.prompt_tokens, [5, 12, 2, 2, 3, 9].reduce((a, b) => a + b, 0));
});

t.test('openai client: base64 (its default) decodes to the same little-endian float32 vectors', async (t) => {
  const { baseUrl } = await startServer(t);
  const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  const texts = sentences().slice(0, 3);
  // The client asks for base64 by default and decodes it itself into number[].
  const decoded = await client.embeddings.create({ model: 'tiny-dense-mean', input: texts });
  decoded.data.forEach((item, i) => t.ok(cosine(item.embedding, reference[i]) >= 0.99999, `decoded input ${i}`));
  const raw = await client.embeddings.create({ model: 'tiny-dense-mean', input: texts[0], encoding_format: 'base64' });
  const bytes = Buffer.from(raw.data[0].embedding as unknown as string, 'base64');
  t.equal(bytes.length, 64 * 4);
  const floats = Array.from({ length: 64 }, (_, i) => bytes.readFloatLE(i * 4));
  t.ok(cosine(floats, reference[0]) >= 0.99999);
});

t.test('dimensions truncates and re-normalises (Matryoshka)', async (t) => {
  const { baseUrl } = await startServer(t);
  const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  const response = await client.embeddings.create({ model: 'tiny-dense-mean', input: sentences()[1], dimensions: 16, encoding_format: 'float' });
  const v = response.data[0].embedding;
  t.equal(v.length, 16);
  t.ok(Math.abs(Math.hypot(...v) - 1) < 1e-6, 'unit length');
  const head = reference[1].slice(0, 16);
  t.ok(cosine(v, head) >= 0.99999, 'direction of the first 16 reference values');
});

t.test('openai client lists models and sees errors as APIError with status and code', async (t) => {
  const { baseUrl } = await startServer(t);
  const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  const models = [];
  for await (const m of client.models.list()) models.push(m.id);
  t.same(models, ['tiny-dense-mean']);
  await t.rejects(client.embeddings.create({ model: 'no-such-model', input: 'x' }), { status: 404, code: 'MODEL_NOT_FOUND' });
});

t.test('a model loaded by path is served under its folder name', async (t) => {
  const { baseUrl } = await startServer(t, [referenceModel('tiny-dense-cls')]);
  const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  const response = await client.embeddings.create({ model: 'tiny-dense-cls', input: 'hello', encoding_format: 'float' });
  t.equal(response.data[0].embedding.length, 64);
});

t.test('float JSON carries the exact float32 values of the base64 answer, in their shortest form', async (t) => {
  const { baseUrl } = await startServer(t);
  const post = async (encoding_format: string) => {
    const response = await fetch(`${baseUrl}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny-dense-mean', input: sentences().slice(0, 4), encoding_format }) });
    t.equal(response.status, 200);
    t.match(response.headers.get('content-type') ?? '', /^application\/json/);
    return response.text();
  };
  const text = await post('float');
  const floats = (JSON.parse(text) as { data: Array<{ embedding: number[] }> }).data;
  const base64 = (JSON.parse(await post('base64')) as { data: Array<{ embedding: string }> }).data;
  floats.forEach((item, i) => {
    const bytes = Buffer.from(base64[i].embedding, 'base64');
    const exact = Array.from({ length: bytes.length / 4 }, (_, j) => bytes.readFloatLE(j * 4));
    t.same(item.embedding.map((v) => Math.fround(v)), exact, `input ${i}: every value is the same float32`);
  });
  // No float64 expansion on the wire: no number carries more than 9 significant digits.
  const longest = Math.max(...(text.match(/-?\d+\.\d+(e[-+]?\d+)?/g) ?? []).map((n) => n.split('e')[0].replace(/[-.]/g, '').replace(/^0+/, '').length));
  t.ok(longest <= 9, `longest number has ${longest} significant digits`);
});

t.test('concurrent float answers each carry their own vectors (bodies are written into reused Buffers)', async (t) => {
  const { baseUrl } = await startServer(t);
  const texts = sentences();
  const post = async (input: string[], encoding_format: string) => {
    const response = await fetch(`${baseUrl}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny-dense-mean', input, encoding_format }) });
    t.equal(response.status, 200);
    return (await response.json()) as { data: Array<{ embedding: number[] | string }> };
  };
  // 48 requests in flight at once, each a different rotation of the reference sentences, several
  // rounds over the same connections: every answer must be its own, value for value.
  for (let round = 0; round < 3; round++) {
    const inputs = Array.from({ length: 48 }, (_, r) => Array.from({ length: 1 + (r % 7) }, (_, k) => (r + k) % texts.length));
    const answers = await Promise.all(inputs.map((order) => post(order.map((i) => texts[i]), 'float')));
    answers.forEach((answer, r) => {
      inputs[r].forEach((sentence, k) => {
        t.ok(cosine(answer.data[k].embedding as number[], reference[sentence]) >= 0.99999, `round ${round}, request ${r}, item ${k}`);
      });
    });
  }
});
