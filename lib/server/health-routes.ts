/**
 * Liveness (/healthz: the process answers) and readiness (/readyz: every model the server was
 * told to preload is loaded). A lazy load of another model does not make the server unready,
 * and a preloaded model that failed does.
 */
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.js';

const names = { type: 'array', items: { type: 'string' } } as const;
const statusSchema = {
  response: {
    200: { type: 'object', properties: { status: { type: 'string' } } },
    503: { type: 'object', properties: { status: { type: 'string' }, loading: names, failed: names } },
  },
};

export async function healthRoutes(app: FastifyInstance, options: { engine: Engine }): Promise<void> {
  app.get('/healthz', { schema: statusSchema }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: statusSchema }, async (_request, reply) => {
    const { ready, loading, failed } = options.engine.readiness();
    if (!ready) return reply.code(503).send({ status: failed.length > 0 ? 'failed' : 'loading', loading, failed });
    return { status: 'ready' };
  });
}
