/**
 * Builds the fastify application: one plugin per API family, one error handler that turns
 * EngineErrors, schema failures and oversized bodies into JSON errors with the right status.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Engine } from '../engine/engine.js';
import { EngineError } from '../engine/engine-error.js';
import { httpStatusOf, openAIErrorBody } from './error-mapping.js';
import { adminRoutes } from './admin-routes.js';
import { requireApiKey } from './api-key-auth.js';
import { healthRoutes } from './health-routes.js';
import { ServerMetrics } from './server-metrics.js';
import { infinityRoutes } from './infinity-routes.js';
import { openAIRoutes } from './openai-routes.js';
import { isSieRoute, sieErrorBody } from './sie-codec.js';
import { sieRoutes } from './sie-routes.js';

export interface ServerOptions {
  engine: Engine;
  /** Metrics the engine was built to report into (EngineOptions.observer = metrics.observer). */
  metrics?: ServerMetrics;
  /** Require `Authorization: Bearer <apiKey>` on every route but the public ones. */
  apiKey?: string;
  /** Routes open without the key (default: /healthz, /readyz, /metrics). */
  publicPaths?: string[];
  /** Status for a saturated queue: 503 with Retry-After (SIE) or 429. */
  overloadStatus?: 503 | 429;
  /** Most inputs in one request (OpenAI's own limit is 2048). */
  maxInputsPerRequest?: number;
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes?: number;
  logger?: FastifyServerOptions['logger'];
}

interface FastifyErrorLike {
  statusCode?: number;
  code?: string;
  message: string;
  validation?: Array<{ instancePath?: string; message?: string; params?: Record<string, unknown> }>;
}

export function buildServer(options: ServerOptions): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimitBytes ?? 16 * 1024 * 1024,
    // Wrong types are errors, not something to coerce silently.
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
  });

  // SIE's routes answer in SIE's error shape (and 422 for schema failures, as FastAPI does);
  // every other route in OpenAI's.
  app.setErrorHandler((error: FastifyErrorLike, request, reply) => {
    const sie = isSieRoute(request.url);
    const send = (status: number, code: string, message: string, param: string | null = null) =>
      reply.code(status).send(sie ? sieErrorBody(status, code, message, param) : openAIErrorBody(status, code, message, param));
    if (error instanceof EngineError) {
      let status = httpStatusOf(error);
      if (error.code === 'OVERLOADED' && options.overloadStatus === 429) status = 429;
      if (status === 503 || status === 429) reply.header('retry-after', '1');
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      return send(status, error.code, error.message, error.param);
    }
    if (error.validation) {
      const first = error.validation[0];
      const missing = first?.params?.missingProperty;
      const path = (first?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
      const field = typeof missing === 'string' ? (path ? `${path}.${missing}` : missing) : path;
      const message = typeof missing === 'string' ? `${field} is required` : `${field || 'body'} ${first?.message ?? 'is invalid'}`;
      return send(sie ? 422 : 400, 'INVALID_INPUT', message, field || null);
    }
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    const code = status === 413 ? 'BODY_TOO_LARGE' : status < 500 ? 'INVALID_INPUT' : 'INTERNAL';
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return send(status, code, status >= 500 ? 'internal server error' : error.message);
  });

  app.setNotFoundHandler((request, reply) => {
    const unencoded = /^\/v1\/(encode|score|extract|models)\/[^/?]+\/[^/?]+/.test(request.url);
    const hint = unencoded ? ": model ids with '/' go URL-encoded in the path (org%2Fname)" : '';
    reply.code(404).send(openAIErrorBody(404, 'NOT_FOUND', `no route ${request.method} ${request.url}${hint}`));
  });

  const metrics = options.metrics ?? new ServerMetrics();
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const params = request.params as { model?: string } | undefined;
    const body = request.body as { model?: unknown } | undefined;
    const model = params?.model ?? (typeof body?.model === 'string' ? body.model : '');
    // Only known models become label values, so arbitrary ids cannot blow up the series count.
    const label = model === '' ? '' : options.engine.status(model) ? model : 'unknown';
    metrics.recordRequest(route, label, reply.statusCode, reply.elapsedTime / 1000);
  });
  if (options.apiKey) requireApiKey(app, { apiKey: options.apiKey, publicPaths: options.publicPaths ?? ['/healthz', '/readyz', '/metrics'] });

  const maxInputsPerRequest = options.maxInputsPerRequest ?? 2048;
  app.register(adminRoutes, { engine: options.engine, metrics });
  app.register(healthRoutes, { engine: options.engine });
  app.register(openAIRoutes, { engine: options.engine, maxInputsPerRequest });
  app.register(sieRoutes, { engine: options.engine, maxInputsPerRequest });
  app.register(infinityRoutes, { engine: options.engine, maxInputsPerRequest });
  return app;
}
