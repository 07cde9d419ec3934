/**
 * Infinity's routes: POST /embeddings (OpenAI shape), /rerank, /classify and GET /models, so
 * Infinity clients can switch by changing the base URL. Errors in OpenAI's shape, as Infinity's.
 */
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.js';
import { clientGone } from './client-gone.js';
import { installErrorHandler, withBody } from './error-handlers.js';
import { openAIErrorBody } from './error-mapping.js';
import { embeddingsRoute, modelsListBody, type EmbeddingsBody } from './openai-routes.js';
import { withRequestModel } from './request-model.js';
import { noteTiming } from './request-timing.js';
import { inputListSchema, modelIdSchema } from './route-schemas.js';
import { rankByScore } from './score-ranking.js';

export interface InfinityRoutesOptions {
  engine: Engine;
  maxInputsPerRequest: number;
  overloadStatus: 503 | 429;
}

interface RerankBody {
  model: string;
  query: string;
  documents: string[];
  top_n?: number;
  return_documents?: boolean;
}

interface ClassifyBody {
  model: string;
  input: string | string[];
}

export async function infinityRoutes(app: FastifyInstance, options: InfinityRoutesOptions): Promise<void> {
  const { engine, maxInputsPerRequest } = options;
  installErrorHandler(app, { schemaStatus: 400, overloadStatus: options.overloadStatus, render: withBody(openAIErrorBody) });
  const rerankSchema = {
    body: {
      type: 'object',
      required: ['model', 'query', 'documents'],
      properties: {
        model: modelIdSchema,
        query: { type: 'string' },
        documents: { ...inputListSchema({ type: 'string' }, maxInputsPerRequest), minItems: 1 },
        top_n: { type: 'integer', minimum: 1 },
        return_documents: { type: 'boolean' },
      },
    },
  } as const;
  const classifySchema = {
    body: {
      type: 'object',
      required: ['model', 'input'],
      properties: {
        model: modelIdSchema,
        input: { anyOf: [{ type: 'string' }, { ...inputListSchema({ type: 'string' }, maxInputsPerRequest), minItems: 1 }] },
      },
    },
  } as const;

  app.post<{ Body: EmbeddingsBody }>('/embeddings', embeddingsRoute(engine, maxInputsPerRequest));
  app.get('/models', async () => modelsListBody(engine));

  app.post<{ Body: RerankBody }>('/rerank', { schema: rerankSchema }, async (request, reply) => {
    const body = request.body;
    const signal = clientGone(request, reply);
    const { scores } = noteTiming(request, await withRequestModel(engine, body.model, (model) => model.score(body.query, body.documents, { signal })));
    const ranked = rankByScore(scores, (relevance_score, index) => ({ index, relevance_score, ...(body.return_documents ? { document: body.documents[index] } : {}) }));
    return { object: 'rerank', model: body.model, results: ranked.slice(0, body.top_n ?? ranked.length).map(({ rank: _rank, ...r }) => r) };
  });

  app.post<{ Body: ClassifyBody }>('/classify', { schema: classifySchema }, async (request, reply) => {
    const body = request.body;
    const texts = typeof body.input === 'string' ? [body.input] : body.input;
    const signal = clientGone(request, reply);
    const { items } = noteTiming(request, await withRequestModel(engine, body.model, (model) => model.extract(texts, { signal })));
    return { object: 'classify', model: body.model, data: items.map((item) => item.classifications) };
  });
}
