/**
 * Operations routes: GET /metrics (Prometheus text) and POST /v1/admin/models/{model}/load |
 * unload. Admin routes follow the API key when one is configured (see api-key-auth.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.js';
import { EngineError } from '../engine/engine-error.js';
import { isSafeModelId } from '../models/model-id.js';
import type { ServerMetrics } from './server-metrics.js';

export async function adminRoutes(app: FastifyInstance, options: { engine: Engine; metrics: ServerMetrics }): Promise<void> {
  const { engine, metrics } = options;
  const params = { type: 'object', properties: { model: { type: 'string', minLength: 1, maxLength: 512 } }, required: ['model'] } as const;

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.post<{ Params: { model: string }; Body: { pin?: boolean } | undefined; Querystring: { pin?: string } }>('/v1/admin/models/:model/load', { schema: { params } }, async (request) => {
    const id = request.params.model;
    if (!isSafeModelId(id)) throw new EngineError('MODEL_NOT_FOUND', `model '${id}' does not exist`, { param: 'model' });
    const pin = request.body?.pin === true || request.query.pin === 'true';
    const model = await engine.load(id, { trusted: false, allowDownload: true, pin });
    return { status: 'loaded', model };
  });

  app.post<{ Params: { model: string } }>('/v1/admin/models/:model/unload', { schema: { params } }, async (request) => {
    if (!engine.unload(request.params.model)) throw new EngineError('MODEL_NOT_FOUND', `model '${request.params.model}' is not loaded`, { param: 'model' });
    return { status: 'unloaded', model: request.params.model };
  });
}
