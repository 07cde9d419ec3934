/**
 * Optional API-key authentication: `Authorization: Bearer <key>` compared in constant time
 * (both sides hashed first, so lengths leak nothing). Health, readiness and, when configured,
 * metrics stay public for probes and scrapers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './http-error.js';

export interface AuthOptions {
  apiKey: string;
  publicPaths: string[];
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export function keyMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

export function requireApiKey(app: FastifyInstance, options: AuthOptions): void {
  const publicPaths = new Set(options.publicPaths);
  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0];
    if (publicPaths.has(path)) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !keyMatches(match[1].trim(), options.apiKey)) {
      throw new HttpError(401, 'UNAUTHORIZED', 'a valid API key is required: send Authorization: Bearer <key>');
    }
  });
}
