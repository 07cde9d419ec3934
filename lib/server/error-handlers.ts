/**
 * One error handler per API family: each plugin installs it in its own fastify scope, with its
 * rendering (status and body shape) and its status for schema failures. Retryable failures
 * (503, 429) carry Retry-After.
 */
import type { FastifyInstance } from 'fastify';
import { describeError, type ErrorDescription } from './error-mapping.js';

export interface ErrorStyle {
  /** Status of a schema failure: 400 (SIE and OpenAI alike). */
  schemaStatus: number;
  overloadStatus: 503 | 429;
  render(description: ErrorDescription): { status: number; body: unknown };
}

/** The neutral description as it is, in a given body shape. */
export function withBody(body: (d: ErrorDescription) => unknown): ErrorStyle['render'] {
  return (d) => ({ status: d.status, body: body(d) });
}

export function installErrorHandler(app: FastifyInstance, style: ErrorStyle): void {
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = style.render(describeError(error, style));
    if (status === 503 || status === 429) reply.header('retry-after', '1');
    if (status >= 500 && status !== 503) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send(body);
  });
}
