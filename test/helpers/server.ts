/** Starts the real fastify app on an ephemeral loopback port for a test, and closes it after. */
import type { FastifyInstance } from 'fastify';
import { Engine, type EngineOptions } from '../../lib/engine/engine.js';
import { buildServer, type ServerOptions } from '../../lib/server/app.js';
import { ServerMetrics } from '../../lib/server/server-metrics.js';
import { referenceModel } from './fixtures.js';

type Teardown = { teardown: (fn: () => Promise<void> | void) => void };

export interface RunningServer {
  app: FastifyInstance;
  engine: Engine;
  metrics: ServerMetrics;
  baseUrl: string;
}

/** An engine built with `engineOptions` (reporting into fresh metrics) behind the real app. */
export async function serveEngine(t: Teardown, engineOptions: EngineOptions = {}, options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const metrics = new ServerMetrics();
  const engine = new Engine({ threads: 2, progress: null, observer: metrics.observer, env: { HF_HUB_OFFLINE: '1' }, ...engineOptions });
  const app = buildServer({ engine, metrics, ...options });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  t.teardown(async () => {
    await app.close();
    engine.close();
  });
  return { app, engine, metrics, baseUrl: `http://127.0.0.1:${port}` };
}

export async function startServer(t: Teardown, models: string[] = [referenceModel('tiny-dense-mean')], options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const running = await serveEngine(t, {}, options);
  for (const model of models) await running.engine.load(model).catch(() => undefined);
  return running;
}

export async function postJson(baseUrl: string, route: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${baseUrl}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}
