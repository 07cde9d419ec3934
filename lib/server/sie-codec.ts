/**
 * SIE's wire formats, as SIE's server speaks them: a request body is msgpack when its
 * Content-Type says so and JSON otherwise (whatever the Content-Type); responses are msgpack
 * (arrays in msgpack-numpy's form) unless the Accept header names JSON and not msgpack, and carry
 * SIE's headers (server version, timing).
 */
import { Packr, Unpackr } from 'msgpackr';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EngineError } from '../errors/engine-error.js';
import { withMsgpackNumpyArrays } from './wire/numpy-array.js';

export const MSGPACK_TYPES = ['application/msgpack', 'application/x-msgpack', 'application/vnd.msgpack'];
export const SERVER_VERSION_HEADER = 'x-sie-server-version';
/**
 * The SIE API version these routes implement, sent as X-SIE-Server-Version: SIE's SDKs compare it
 * with their own version and warn of skew, so it names the protocol, not this package (whose
 * version goes in X-SIE-Server-Implementation).
 */
export const SIE_API_VERSION = '0.3.1';
export const IMPLEMENTATION_HEADER = 'x-sie-server-implementation';

// Plain maps and arrays, no msgpackr records or typed-array extensions: what msgpack-numpy reads.
const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

function invalidBody(what: string, error: unknown): EngineError {
  return new EngineError('INVALID_INPUT', `request body is not valid ${what}: ${(error as Error).message}`, { param: 'body' });
}

/** Registers SIE's body parsers on an encapsulated plugin: msgpack, and JSON for anything else. */
export function acceptSieBodies(app: FastifyInstance): void {
  app.addContentTypeParser(MSGPACK_TYPES, { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, unpackr.unpack(body as Buffer));
    } catch (error) {
      done(invalidBody('msgpack', error), undefined);
    }
  });
  const json = (_request: FastifyRequest, body: string | Buffer, done: (error: Error | null, value?: unknown) => void) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(invalidBody('JSON', error), undefined);
    }
  };
  // fetch and curl send a bare string body as text/plain; SIE's server parses it as JSON all the same.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, json);
  app.addContentTypeParser('*', { parseAs: 'string' }, json);
}

export function wantsJson(request: FastifyRequest): boolean {
  const accept = (request.headers.accept ?? '').toLowerCase();
  return accept.includes('application/json') && !accept.includes('msgpack');
}

export function sendSie(request: FastifyRequest, reply: FastifyReply, body: unknown, headers: Record<string, string> = {}): FastifyReply {
  reply.headers(headers);
  if (wantsJson(request)) return reply.type('application/json').send(JSON.stringify(body));
  return reply.type('application/msgpack').send(packr.pack(withMsgpackNumpyArrays(body)));
}

/** SIE's timing headers (milliseconds, two decimals). */
export function timingHeaders(timing: { queue_ms: number; tokenization_ms: number; inference_ms: number; total_ms: number; postprocessing_ms?: number | null }): Record<string, string> {
  const ms = (v: number) => v.toFixed(2);
  return {
    'x-queue-time': ms(timing.queue_ms),
    'x-tokenization-time': ms(timing.tokenization_ms),
    'x-inference-time': ms(timing.inference_ms),
    'x-total-time': ms(timing.total_ms),
    ...(timing.postprocessing_ms ? { 'x-postprocessing-time': ms(timing.postprocessing_ms) } : {}),
  };
}
