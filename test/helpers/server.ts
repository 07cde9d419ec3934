/** Starts the real fastify app on an ephemeral loopback port for a test, and closes it after. */
import type { FastifyInstance } from 'fastify';
import { Engine } from '../../lib/engine/engine.js';
import { buildServer, type ServerOptions } from '../../lib/server/app.js';
import { referenceModel } from './fixtures.js';

export interface RunningServer {
  app: FastifyInstance;
  engine: Engine;
  baseUrl: string;
}

export async function startServer(
  t: { teardown: (fn: () => Promise<void> | void) => void },
  models: string[] = [referenceModel('tiny-dense-mean')],
  options: Partial<ServerOptions> = {},
): Promise<RunningServer> {
  const engine = new Engine({ threads: 2, progress: null });
  for (const model of models) await engine.load(model).catch(() => undefined);
  const app = buildServer({ engine, ...options });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  t.teardown(async () => {
    await app.close();
    engine.close();
  });
  return { app, engine, baseUrl: `http://127.0.0.1:${port}` };
}

export async function postJson(baseUrl: string, route: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${baseUrl}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}
