/** Liveness (/healthz: the process answers) and readiness (/readyz: preloaded models are loaded). */
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.js';

const statusSchema = { response: { 200: { type: 'object', properties: { status: { type: 'string' } } }, 503: { type: 'object', properties: { status: { type: 'string' }, loading: { type: 'array', items: { type: 'string' } } } } } };

export async function healthRoutes(app: FastifyInstance, options: { engine: Engine }): Promise<void> {
  app.get('/healthz', { schema: statusSchema }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: statusSchema }, async (_request, reply) => {
    const loading = options.engine.list().filter((m) => m.state === 'loading').map((m) => m.id);
    if (loading.length > 0) return reply.code(503).send({ status: 'loading', loading });
    return { status: 'ready' };
  });
}
