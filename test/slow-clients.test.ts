// Slow and odd clients cost bounded resources and get clear answers: headers that never finish
// and bodies shorter than their Content-Length are cut off on time, router failures answer in a
// JSON error shape every client reads, long model ids work as far as the id limit, and OpenAI's
// input is never a mix of strings and token lists.
import t from 'tap';
import { referenceModel } from './helpers/fixtures.js';
import { rawExchange } from './helpers/raw-socket.js';
import { postJson, startServer } from './helpers/server.js';

t.test('headers that never finish and bodies that never arrive are cut off within their timeouts', async (t) => {
  const { app } = await startServer(t, [referenceModel('tiny-dense-mean')], { connectionLimits: { headersTimeoutMs: 500, requestTimeoutMs: 800 } });
  const port = (app.server.address() as { port: number }).port;
  const headers = await rawExchange(port, 'POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nX-Slow: ', 5000);
  t.ok(headers.closedAfterMs !== null && headers.closedAfterMs < 3000, `unfinished headers: closed after ${headers.closedAfterMs} ms`);
  const body = await rawExchange(port, 'POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model": "tiny', 5000);
  t.ok(body.closedAfterMs !== null && body.closedAfterMs < 3000, `short body: closed after ${body.closedAfterMs} ms`);
  t.match(body.received, /^HTTP\/1\.1 408/, 'answered 408 Request Timeout');
  const ok = await postJson(`http://127.0.0.1:${port}`, '/v1/embeddings', { model: 'tiny-dense-mean', input: 'still serving' });
  t.equal(ok.status, 200);
});

t.test('router failures answer JSON with both SIE\'s detail and OpenAI\'s error', async (t) => {
  const { baseUrl } = await startServer(t, []);
  for (const route of ['/v1/encode/%zz', '/v1/models/%E0%A4%A']) {
    const response = await fetch(`${baseUrl}${route}`, { method: route.includes('encode') ? 'POST' : 'GET', headers: { 'content-type': 'application/json' }, body: route.includes('encode') ? '{"items": [{"text": "x"}]}' : undefined });
    t.equal(response.status, 400, `${route}: 400`);
    const body = await response.json() as { detail?: { code: string }; error?: { message: string; code: string } };
    t.equal(body.detail?.code, body.error?.code, `${route}: one code in both shapes (${body.error?.code})`);
    t.type(body.error?.message, 'string');
  }
  const longId = `org/${'a'.repeat(120)}`;
  const missing = await fetch(`${baseUrl}/v1/models/${longId}`);
  t.equal(missing.status, 404, 'a long but valid id is looked up (not a 414 from the router)');
  t.equal(((await missing.json()) as { detail: { code: string } }).detail.code, 'MODEL_NOT_FOUND');
});

t.test('OpenAI input mixing strings and token lists is refused with 400 naming the item', async (t) => {
  const { baseUrl } = await startServer(t, [referenceModel('tiny-dense-mean')]);
  for (const input of [['hello', [101, 102]], [[101, 102], 'hello']]) {
    const response = await postJson(baseUrl, '/v1/embeddings', { model: 'tiny-dense-mean', input });
    t.equal(response.status, 400);
    t.match(response.body.error, { code: 'INVALID_INPUT', param: 'input[1]', message: /all strings or all token lists/ });
  }
});

t.test('a body over the limit gets a readable 413 (the upload is drained, not reset)', async (t) => {
  const { baseUrl } = await startServer(t, [], { bodyLimitBytes: 1024 * 1024 });
  for (let attempt = 0; attempt < 4; attempt++) {
    const big = Buffer.alloc(50 * 1024 * 1024, 0x61);
    const response = await fetch(`${baseUrl}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    t.equal(response.status, 413, `attempt ${attempt}: the client reads the 413`);
    t.match(await response.json(), { error: { code: 'BODY_TOO_LARGE' } });
  }
});

t.test('an admin load of a model that does not exist is a 404 and leaves no catalogue entry', async (t) => {
  const { baseUrl } = await startServer(t, []);
  const response = await fetch(`${baseUrl}/v1/admin/models/no-org%2Fno-such-model/load`, { method: 'POST' });
  t.equal(response.status, 404);
  t.equal(((await response.json()) as { error: { code: string } }).error.code, 'MODEL_NOT_FOUND');
  const models = await (await fetch(`${baseUrl}/v1/models`)).json() as { models: Array<{ name: string }> };
  t.notOk(models.models.some((m) => m.name === 'no-org/no-such-model'), 'not kept as a failed entry');
});
