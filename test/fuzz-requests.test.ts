// Property-based fuzzing (fast-check) of what clients send: arbitrary JSON bodies and
// half-valid requests on every POST route get a 2xx or a 4xx in the route family's error shape,
// never a 5xx; arbitrary Unicode text (lone surrogates, controls, emoji, combining marks,
// right-to-left, long runs) through the tokenizer gives unit vectors bit-identical to the
// in-process engine's. Bounded by SIE_FUZZ_SECONDS per property (default 15).
import fc from 'fast-check';
import t from 'tap';
import { referenceModel } from './helpers/fixtures.js';
import { startServer } from './helpers/server.js';

const seconds = Number(process.env.SIE_FUZZ_SECONDS ?? 15);
const ROUTES: Array<{ path: string; family: 'sie' | 'openai' | 'infinity' }> = [
  { path: '/v1/embeddings', family: 'openai' },
  { path: '/v1/encode/tiny-dense-mean', family: 'sie' },
  { path: '/v1/score/tiny-cross-encoder', family: 'sie' },
  { path: '/v1/extract/tiny-classifier', family: 'sie' },
  { path: '/embeddings', family: 'infinity' },
  { path: '/rerank', family: 'infinity' },
  { path: '/classify', family: 'infinity' },
];

async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body });
  return { status: response.status, text: await response.text() };
}

/** The failure is a JSON body carrying the route family's error shape. */
function errorShapeOk(family: string, text: string): boolean {
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return false;
  }
  if (family === 'openai') return typeof body?.error?.message === 'string' && typeof body?.error?.code === 'string';
  if (family === 'sie') return body?.detail !== undefined;
  return typeof body?.error?.message === 'string' || body?.detail !== undefined;
}

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),  // lone surrogates, controls, any code point
  fc.constantFrom('', ' ', '\u0000', '\u200b\u200d', '👩‍👩‍👧‍👦'.repeat(20), 'مرحبا بالعالم', 'e\u0301\u0302\u0303', 'a'.repeat(3000)),
);

t.test('arbitrary and half-valid bodies: never a 5xx, failures in the family\'s shape', async (t) => {
  const { baseUrl } = await startServer(t, ['tiny-dense-mean', 'tiny-cross-encoder', 'tiny-classifier'].map(referenceModel), { maxInputsPerRequest: 16 });
  const halfValid = fc.record({
    model: fc.oneof(fc.constantFrom('tiny-dense-mean', 'tiny-cross-encoder', 'tiny-classifier', 'nope', '../x', ''), fc.anything()),
    input: fc.oneof(text, fc.array(text, { maxLength: 20 }), fc.array(fc.integer({ min: -5, max: 40000 }), { maxLength: 20 }), fc.anything()),
    items: fc.oneof(fc.array(fc.record({ text: fc.oneof(text, fc.anything()), id: fc.oneof(fc.string(), fc.integer()) }, { requiredKeys: [] }), { maxLength: 20 }), fc.anything()),
    query: fc.oneof(text, fc.record({ text }), fc.anything()),
    documents: fc.oneof(fc.array(text, { maxLength: 20 }), fc.anything()),
    params: fc.oneof(fc.record({ output_types: fc.array(fc.constantFrom('dense', 'sparse', 'multivector', 'x')), output_dtype: fc.constantFrom('float32', 'int8', 'binary', 'bogus'), options: fc.dictionary(fc.string(), fc.jsonValue()) }, { requiredKeys: [] }), fc.anything()),
  }, { requiredKeys: [] });
  const body = fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), halfValid.map((v) => JSON.stringify(v) ?? 'null'), fc.string({ maxLength: 60 }));
  let requests = 0;
  const failures: string[] = [];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...ROUTES), body, async (route, payload) => {
      const { status, text: reply } = await post(`${baseUrl}${route.path}`, payload);
      requests++;
      if (status >= 500 || (status >= 400 && !errorShapeOk(route.family, reply))) failures.push(`${route.path} ${status} ${payload.slice(0, 120)} -> ${reply.slice(0, 200)}`);
      return status < 500;
    }),
    { numRuns: 1e6, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false, seed: 7 },
  );
  t.same(failures, [], 'no 5xx and every error in its family\'s shape');
  t.ok(requests > 100, `${requests} requests`);
});

t.test('arbitrary Unicode through the tokenizer: unit vectors, equal to the in-process engine\'s', async (t) => {
  const { baseUrl, engine } = await startServer(t, [referenceModel('tiny-dense-mean')]);
  let checked = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(text, { minLength: 1, maxLength: 4 }), async (inputs) => {
      const response = await fetch(`${baseUrl}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'tiny-dense-mean', input: inputs }) });
      if (response.status !== 200) return false;
      const body = (await response.json()) as { data: Array<{ embedding: number[] }> };
      // JSON cannot carry lone surrogates faithfully: compare with what the server received. The
      // answer carries each float32 in its shortest form: it reads back to the same float32.
      const received = inputs.map((s) => JSON.parse(JSON.stringify(s)) as string);
      const local = await engine.embed('tiny-dense-mean', received);
      checked += inputs.length;
      return body.data.every((d, i) => Math.abs(Math.hypot(...d.embedding) - 1) < 1e-5 && d.embedding.every((v, j) => Math.fround(v) === local.embeddings[i][j]));
    }),
    { numRuns: 1e6, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false, seed: 11 },
  );
  t.ok(checked > 50, `${checked} texts embedded, each a unit vector equal to the in-process one`);
});
