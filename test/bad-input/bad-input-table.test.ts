// The hostile-request table (http-cases.ts, socket-cases.ts): at least 200 requests over every
// route, each answered with its expected status class, in its family's JSON error shape (SIE's
// `detail`, OpenAI's `error.message`, Infinity's), never a 5xx; raw-socket cases end in a 4xx or
// a closed connection within their bound. After every batch of cases a correct request returns
// vectors bit-identical to the ones before the first: nothing hostile changes the server's state.
import t from 'tap';
import { referenceModel } from '../helpers/fixtures.js';
import { rawExchange, statusOf } from '../helpers/raw-socket.js';
import { startServer } from '../helpers/server.js';
import { httpCases, MODELS, type Family, type HttpCase } from './http-cases.js';
import { socketCases } from './socket-cases.js';

const BATCH = 25;

function shapeOk(family: Family, status: number, text: string): boolean {
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return false;
  }
  // The admin routes (sie-admin's) answer in OpenAI's shape.
  if (family === 'openai' || family === 'admin') return typeof body?.error?.message === 'string' && typeof body?.error?.code === 'string';
  if (family === 'sie') return body?.detail !== undefined && (typeof body.detail === 'string' || typeof body.detail?.message === 'string' || Array.isArray(body.detail));
  return typeof body?.error?.message === 'string' || body?.detail !== undefined || (status === 404 && typeof body?.message === 'string');
}

async function send(baseUrl: string, c: HttpCase): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (c.contentType) headers['content-type'] = c.contentType;
  const response = await fetch(`${baseUrl}${c.path}`, { method: c.method, headers, body: c.method === 'GET' || c.method === 'DELETE' ? undefined : (c.body as BodyInit | undefined) });
  return { status: response.status, text: await response.text() };
}

t.test('at least 200 hostile requests: expected status classes, error shapes, unchanged state', async (t) => {
  const { baseUrl, app } = await startServer(t, Object.values(MODELS).map(referenceModel), {
    maxInputsPerRequest: 32,
    bodyLimitBytes: 256 * 1024,
    connectionLimits: { headersTimeoutMs: 1000, requestTimeoutMs: 1500 },
  });
  const port = (app.server.address() as { port: number }).port;
  const canonical = async () => {
    const response = await fetch(`${baseUrl}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODELS.dense, input: ['the canonical request', 'a second text', ''], encoding_format: 'base64' }) });
    t.equal(response.status, 200, 'canonical request');
    return ((await response.json()) as { data: Array<{ embedding: string }> }).data.map((d) => d.embedding);
  };
  const baseline = await canonical();
  const cases = httpCases();
  const sockets = socketCases();
  t.ok(cases.length + sockets.length >= 200, `${cases.length} HTTP cases + ${sockets.length} raw-socket cases`);

  for (let begin = 0; begin < cases.length; begin += BATCH) {
    for (const c of cases.slice(begin, begin + BATCH)) {
      const { status, text } = await send(baseUrl, c);
      if (c.status !== undefined) t.equal(status, c.status, `${c.name}: status ${status}`);
      else if (c.statusClass === 2) t.ok(status >= 200 && status < 300, `${c.name}: accepted (${status})`);
      else t.ok(status >= 400 && status < 500, `${c.name}: 4xx (${status})`);
      if (status >= 400) t.ok(shapeOk(c.family, status, text), `${c.name}: ${c.family} error shape (${text.slice(0, 160)})`);
    }
    t.same(await canonical(), baseline, `after cases ${begin}-${Math.min(cases.length, begin + BATCH) - 1}: bit-identical vectors`);
  }

  for (let begin = 0; begin < sockets.length; begin += 8) {
    await Promise.all(sockets.slice(begin, begin + 8).map(async (c) => {
      const { received, closedAfterMs } = await rawExchange(port, c.data, c.withinMs + 1500);
      const status = statusOf(received);
      if (c.expect === 'closed') t.ok(closedAfterMs !== null && closedAfterMs <= c.withinMs, `${c.name}: closed after ${closedAfterMs} ms`);
      else if (c.expect === '4xx') t.ok(status !== undefined && status >= 400 && status < 500, `${c.name}: 4xx (${status ?? received.slice(0, 40)})`);
      else t.equal(status, c.expect, `${c.name}: ${c.expect} (${received.slice(0, 60)})`);
      if (c.expect !== 'closed') t.ok(closedAfterMs === null || closedAfterMs <= c.withinMs + 1500, `${c.name}: answered in time`);
    }));
    t.same(await canonical(), baseline, `after socket cases ${begin}-${begin + 7}: bit-identical vectors`);
  }
});

t.test('body limits per route: SIE routes take larger bodies than the JSON text routes', async (t) => {
  const { baseUrl } = await startServer(t, [referenceModel(MODELS.dense)], { bodyLimitBytes: 64 * 1024, sieBodyLimitBytes: 2 * 1024 * 1024 });
  const text = 'word '.repeat(60_000);  // 300 KB
  const openai = await fetch(`${baseUrl}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODELS.dense, input: text }) });
  t.equal(openai.status, 413, 'over the JSON routes\' 64 KiB');
  t.equal(((await openai.json()) as { error: { code: string } }).error.code, 'BODY_TOO_LARGE');
  const sie = await fetch(`${baseUrl}/v1/encode/${MODELS.dense}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ items: [{ text }] }) });
  t.equal(sie.status, 200, 'within the SIE routes\' 2 MiB');
  const huge = await fetch(`${baseUrl}/v1/encode/${MODELS.dense}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ items: [{ text: text.repeat(8) }] }) });
  t.equal(huge.status, 413, 'over the SIE routes\' own limit');
  t.equal(((await huge.json()) as { detail: { code: string } }).detail.code, 'BODY_TOO_LARGE');
});
