/**
 * One error handler per API family: each plugin installs it in its own fastify scope, with its
 * body shape and its status for schema failures. Retryable failures carry Retry-After.
 */
import type { FastifyInstance } from 'fastify';
import { describeError, type ErrorDescription } from './error-mapping.js';

export interface ErrorStyle {
  /** Status of a schema failure: 400, or 422 where the API follows FastAPI (SIE). */
  schemaStatus: number;
  overloadStatus: 503 | 429;
  body(description: ErrorDescription): unknown;
}

export function installErrorHandler(app: FastifyInstance, style: ErrorStyle): void {
  app.setErrorHandler((error, request, reply) => {
    const description = describeError(error, style);
    if (description.status === 503 || description.status === 429) reply.header('retry-after', '1');
    if (description.status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(description.status).send(style.body(description));
  });
}
