/**
 * The engine's timing breakdown of a request (queue, tokenization, inference), left on the
 * request by the route that ran it, so the metrics hook can record SIE's per-phase latencies.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Timing } from '../engine/loaded-model.js';

declare module 'fastify' {
  interface FastifyRequest {
    engineTiming: Timing | undefined;
  }
}

export function decorateRequestTiming(app: FastifyInstance): void {
  app.decorateRequest('engineTiming', undefined);
}

/** Passes a result through, noting its timing on the request. */
export function noteTiming<T extends { timing: Timing }>(request: FastifyRequest, result: T): T {
  request.engineTiming = result.timing;
  return result;
}
