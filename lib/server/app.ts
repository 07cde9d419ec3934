/**
 * Builds the fastify application: one plugin per API family (each with its own error handler
 * and error shape), the metrics hook, optional API-key auth and a JSON 404.
 */
import http from 'node:http';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { Engine } from '../engine/engine.js';
import { adminRoutes } from './admin-routes.js';
import { requireApiKey } from './api-key-auth.js';
import { installErrorHandler } from './error-handlers.js';
import { describeError, sieError } from './error-mapping.js';
import { healthRoutes } from './health-routes.js';
import { HttpError } from './http-error.js';
import { infinityRoutes } from './infinity-routes.js';
import { ImageUrlFetcher, type ImageUrlPolicy } from '../images/image-url-fetch.js';
import { openAIRoutes } from './openai-routes.js';
import { ServerMetrics } from './server-metrics.js';
import { decorateRequestTiming } from './request-timing.js';
import { sieRoutes } from './sie-routes.js';
import { SERVER_VERSION } from '../version.js';

export interface ServerOptions {
  engine: Engine;
  /** Metrics the engine was built to report into (EngineOptions.observer = metrics.observer). */
  metrics?: ServerMetrics;
  /** Require `Authorization: Bearer <apiKey>` on every route but the public ones. */
  apiKey?: string;
  /** Routes open without the key (default: /healthz, /readyz, /metrics, /openapi.json). */
  publicPaths?: string[];
  /** Status for a saturated queue: 503 with Retry-After (SIE) or 429. */
  overloadStatus?: 503 | 429;
  /** Most inputs in one request (OpenAI's own limit is 2048). */
  maxInputsPerRequest?: number;
  /** How long an SIE request waits for a cold model before 503 MODEL_LOADING (default 2000 ms). */
  coldLoadWaitMs?: number;
  /** Slow clients: how long each may hold a connection (see ConnectionLimits). */
  connectionLimits?: Partial<ConnectionLimits>;
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes?: number;
  /** Body limit of SIE's POST routes (msgpack bodies with images are larger than JSON text); default 64 MiB. */
  sieBodyLimitBytes?: number;
  logger?: FastifyServerOptions['logger'];
  /** Infinity's image routes fetch http(s) URLs under this policy; absent: URLs are refused. */
  imageUrls?: ImageUrlPolicy;
}

/**
 * What one client may hold, so slow or stalled clients cost a socket for a bounded time: the
 * headers must arrive within headersTimeoutMs, the whole request (headers and body) within
 * requestTimeoutMs (answered 408), an idle keep-alive socket is closed after keepAliveTimeoutMs,
 * and at most maxConnections sockets are open at once. Computing the answer is not limited.
 */
export interface ConnectionLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000, maxConnections: 4096 };

export function buildServer(options: ServerOptions): FastifyInstance {
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.connectionLimits };
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimitBytes ?? 16 * 1024 * 1024,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Path parameters as long as the longest model id the routes accept (and escapes of it).
    routerOptions: { maxParamLength: 3 * 512 },
    // Failures before routing (a malformed URL, bad percent-encoding) in the same JSON shape as the rest.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      const { status, body } = sieError(describeError(new HttpError(400, 'BAD_URL', error.message), { schemaStatus: 400, overloadStatus: 503 }));
      void reply.code(status).send(body);
    },
    requestTimeout: limits.requestTimeoutMs,
    // Node checks the header and request deadlines on this interval (30 s by default).
    serverFactory: (handler) => {
      const server = http.createServer({
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: Math.max(100, Math.min(1000, limits.headersTimeoutMs / 4)),
      }, handler);
      server.maxConnections = limits.maxConnections;
      return server;
    },
    // Wrong types are errors, not something to coerce silently.
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
  });
  const overloadStatus = options.overloadStatus ?? 503;
  // Failures outside any family's routes (unmatched paths, auth on them): SIE's shape, which
  // carries OpenAI's `error` object too, so every client reads it.
  installErrorHandler(app, { schemaStatus: 400, overloadStatus, render: sieError });
  app.setNotFoundHandler((request) => {
    throw new HttpError(404, 'NOT_FOUND', `no route ${request.method} ${request.url}`);
  });

  const metrics = options.metrics ?? new ServerMetrics();
  metrics.watchEngine(options.engine);
  decorateRequestTiming(app);
  app.addHook('onRequest', async (_request, reply) => metrics.requestStarted(reply.raw));
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const params = request.params as { model?: string; '*'?: string } | undefined;
    const body = request.body as { model?: unknown } | undefined;
    const model = params?.model ?? params?.['*'] ?? (typeof body?.model === 'string' ? body.model : '');
    // Only known models become label values, so arbitrary ids cannot blow up the series count.
    const label = model === '' ? '' : options.engine.status(model) ? model : 'unknown';
    metrics.recordRequest(route, label, reply.statusCode, reply.elapsedTime / 1000, request.engineTiming);
  });
  if (options.apiKey) requireApiKey(app, { apiKey: options.apiKey, publicPaths: options.publicPaths ?? ['/healthz', '/readyz', '/metrics', '/openapi.json'] });

  // The OpenAPI document is generated from the routes' own schemas (GET /openapi.json).
  app.register(swagger, {
    openapi: { info: { title: 'sie-server', description: "SIE's, OpenAI's and Infinity's APIs over sie-server's engine", version: SERVER_VERSION } },
    // SIE's routes take the model id as the rest of the path; the document names it {model}, as SIE's does.
    transform: ({ schema, url }) => {
      if (!url.endsWith('/*')) return { schema, url };
      const params = { type: 'object', properties: { model: { type: 'string', description: "model id; '/' allowed raw or URL-encoded" } }, required: ['model'] };
      return { schema: { ...schema, params }, url: `${url.slice(0, -1)}:model` };
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  const family = { engine: options.engine, maxInputsPerRequest: options.maxInputsPerRequest ?? 2048, overloadStatus };
  app.register(adminRoutes, { engine: options.engine, metrics, overloadStatus });
  app.register(healthRoutes, { engine: options.engine });
  app.register(openAIRoutes, family);
  app.register(sieRoutes, { ...family, serverVersion: SERVER_VERSION, coldLoadWaitMs: options.coldLoadWaitMs, bodyLimitBytes: options.sieBodyLimitBytes });
  app.register(infinityRoutes, { ...family, imageUrls: options.imageUrls ? new ImageUrlFetcher(options.imageUrls) : undefined });
  return app;
}
