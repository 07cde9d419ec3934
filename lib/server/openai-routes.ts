/**
 * OpenAI-compatible routes: POST /v1/embeddings and GET /v1/models, so the official `openai`
 * client works by changing its baseURL. /v1/models also carries SIE's `models` list.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../engine/engine.js';
import type { EmbeddingInput } from '../engine/loaded-model.js';
import { EngineError } from '../errors/engine-error.js';
import { clientGone } from './client-gone.js';
import { installErrorHandler, withBody } from './error-handlers.js';
import { openAIErrorBody } from './error-mapping.js';
import { withRequestModel } from './request-model.js';
import { noteTiming } from './request-timing.js';
import { modelIdSchema } from './route-schemas.js';
import { modelInfo } from './sie-routes.js';
import { sendEmbeddings } from './wire/embeddings-json.js';

export interface OpenAIRoutesOptions {
  engine: Engine;
  maxInputsPerRequest: number;
  overloadStatus: 503 | 429;
}

export interface EmbeddingsBody {
  model: string;
  input: unknown;
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  truncate?: boolean;
}

const embeddingsBodySchema = (maxInputs: number) => ({
  type: 'object',
  required: ['model', 'input'],
  properties: {
    model: modelIdSchema,
    // Its shape is checked by parseEmbeddingInput (clearer messages than anyOf); its length here.
    input: { if: { type: 'array' }, then: { type: 'array', maxItems: maxInputs } },
    encoding_format: { type: 'string', enum: ['float', 'base64'] },
    dimensions: { type: 'integer', minimum: 1 },
    user: { type: 'string' },
    truncate: { type: 'boolean' },
  },
} as const);

const embeddingsResponseSchema = {
  200: {
    type: 'object',
    properties: {
      object: { type: 'string' },
      data: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            object: { type: 'string' },
            index: { type: 'integer' },
            embedding: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'number' } }] },
          },
        },
      },
      model: { type: 'string' },
      usage: { type: 'object', properties: { prompt_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } } },
    },
  },
} as const;

/** Validates OpenAI's `input`: string | string[] | number[] | number[][], naming the bad field. */
export function parseEmbeddingInput(input: unknown): EmbeddingInput[] {
  const invalid = (message: string, param = 'input') => new EngineError('INVALID_INPUT', message, { param });
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input)) throw invalid('input must be a string, an array of strings, or an array of token ids');
  if (input.length === 0) throw invalid('input must not be an empty list');
  if (input.every((v) => typeof v === 'number')) {
    input.forEach((v, i) => {
      if (!Number.isInteger(v)) throw invalid(`input[${i}] must be an integer token id`, `input[${i}]`);
    });
    return [input as number[]];
  }
  // OpenAI's input is string[] or number[][], never a mix of the two.
  const firstIsText = typeof input[0] === 'string';
  return input.map((item, i) => {
    if (typeof item === 'string' && !firstIsText) throw invalid(`input[${i}] is a string, but input[0] is a token list: input must be all strings or all token lists`, `input[${i}]`);
    if (Array.isArray(item) && firstIsText) throw invalid(`input[${i}] is a token list, but input[0] is a string: input must be all strings or all token lists`, `input[${i}]`);
    if (typeof item === 'string') return item;
    if (Array.isArray(item)) {
      if (item.length === 0) throw invalid(`input[${i}] must not be an empty token list`, `input[${i}]`);
      item.forEach((v, j) => {
        if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(`input[${i}][${j}] must be an integer token id`, `input[${i}][${j}]`);
      });
      return item as number[];
    }
    throw invalid(`input[${i}] must be a string or an array of token ids`, `input[${i}]`);
  });
}

/** The OpenAI embeddings handler, shared by /v1/embeddings and Infinity's /embeddings. */
export function embeddingsRoute(engine: Engine, maxInputsPerRequest: number) {
  return {
    schema: { body: embeddingsBodySchema(maxInputsPerRequest), response: embeddingsResponseSchema },
    handler: async (request: FastifyRequest<{ Body: EmbeddingsBody }>, reply: FastifyReply) => {
      const body = request.body;
      const inputs = parseEmbeddingInput(body.input);
      const signal = clientGone(request, reply);
      const result = noteTiming(request, await withRequestModel(engine, body.model, (model) => model.embed(inputs, { dimensions: body.dimensions, truncate: body.truncate, signal })));
      const promptTokens = result.tokenCounts.reduce((a, b) => a + b, 0);
      return sendEmbeddings(reply, result.embeddings, body.model, promptTokens, body.encoding_format ?? 'float');
    },
  };
}

/** OpenAI's model list with SIE's `models` list in the same body, so both kinds of client read it. */
export function modelsListBody(engine: Engine) {
  const statuses = engine.catalogue();
  return {
    object: 'list',
    data: statuses.map((s) => ({ id: s.id, object: 'model', created: 0, owned_by: 'sie-server' })),
    models: statuses.map(modelInfo),
  };
}

export async function openAIRoutes(app: FastifyInstance, options: OpenAIRoutesOptions): Promise<void> {
  installErrorHandler(app, { schemaStatus: 400, overloadStatus: options.overloadStatus, render: withBody(openAIErrorBody) });
  app.post<{ Body: EmbeddingsBody }>('/v1/embeddings', embeddingsRoute(options.engine, options.maxInputsPerRequest));
  app.get('/v1/models', async () => modelsListBody(options.engine));
}
