/**
 * SIE's wire formats: request bodies in JSON or msgpack; responses in msgpack unless the Accept
 * header names application/json and not msgpack.
 */
import { decode, encode } from '@msgpack/msgpack';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EngineError } from '../errors/engine-error.js';

export const MSGPACK_TYPES = ['application/msgpack', 'application/x-msgpack', 'application/vnd.msgpack'];

/** Registers the msgpack body parser on an app (or an encapsulated plugin). */
export function acceptMsgpackBodies(app: FastifyInstance): void {
  app.addContentTypeParser(MSGPACK_TYPES, { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, decode(body as Buffer));
    } catch (error) {
      done(new EngineError('INVALID_INPUT', `request body is not valid msgpack: ${(error as Error).message}`), undefined);
    }
  });
}

export function wantsJson(request: FastifyRequest): boolean {
  const accept = (request.headers.accept ?? '').toLowerCase();
  return accept.includes('application/json') && !accept.includes('msgpack');
}

export function sendSie(request: FastifyRequest, reply: FastifyReply, body: unknown): FastifyReply {
  if (wantsJson(request)) return reply.type('application/json').send(body);
  const bytes = encode(body, { forceFloat32: false, ignoreUndefined: true });
  return reply.type('application/msgpack').send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
