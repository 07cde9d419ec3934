/**
 * Operations routes: GET /metrics (Prometheus text) and POST /v1/admin/models/{model}/load |
 * unload. Admin routes follow the API key when one is configured (see api-key-auth.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.js';
import { EngineError } from '../errors/engine-error.js';
import { installErrorHandler, withBody } from './error-handlers.js';
import { openAIErrorBody } from './error-mapping.js';
import { checkRequestModelId } from './request-model.js';
import { modelParamsSchema as params } from './route-schemas.js';
import type { ServerMetrics } from './server-metrics.js';

export async function adminRoutes(app: FastifyInstance, options: { engine: Engine; metrics: ServerMetrics; overloadStatus: 503 | 429 }): Promise<void> {
  const { engine, metrics } = options;
  installErrorHandler(app, { schemaStatus: 400, overloadStatus: options.overloadStatus, render: withBody(openAIErrorBody) });

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.post<{ Params: { model: string }; Body: { pin?: boolean } | undefined; Querystring: { pin?: string } }>('/v1/admin/models/:model/load', { schema: { params } }, async (request) => {
    const id = request.params.model;
    checkRequestModelId(id);
    const pin = request.body?.pin === true || request.query.pin === 'true';
    const model = await engine.load(id, { trusted: false, allowDownload: true, pin });
    return { status: 'loaded', model };
  });

  app.post<{ Params: { model: string } }>('/v1/admin/models/:model/unload', { schema: { params } }, async (request) => {
    if (!engine.unload(request.params.model)) throw new EngineError('MODEL_NOT_FOUND', `model '${request.params.model}' is not loaded`, { param: 'model' });
    return { status: 'unloaded', model: request.params.model };
  });
}
