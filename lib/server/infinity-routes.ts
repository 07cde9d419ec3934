/**
 * Infinity's routes: POST /embeddings (OpenAI shape), /rerank, /classify and GET /models, so
 * Infinity clients can switch by changing the base URL.
 */
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.js';
import { EngineError } from '../engine/engine-error.js';
import { isSafeModelId } from '../models/model-id.js';
import { clientGone } from './client-gone.js';
import { embeddingsRoute, modelsListBody, type EmbeddingsBody } from './openai-routes.js';

export interface InfinityRoutesOptions {
  engine: Engine;
  maxInputsPerRequest: number;
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

const rerankSchema = {
  body: {
    type: 'object',
    required: ['model', 'query', 'documents'],
    properties: {
      model: { type: 'string', minLength: 1, maxLength: 512 },
      query: { type: 'string' },
      documents: { type: 'array', items: { type: 'string' }, minItems: 1 },
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
      model: { type: 'string', minLength: 1, maxLength: 512 },
      input: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] },
    },
  },
} as const;

function checkModelId(id: string): void {
  if (!isSafeModelId(id)) throw new EngineError('MODEL_NOT_FOUND', `model '${id}' does not exist`, { param: 'model' });
}

export async function infinityRoutes(app: FastifyInstance, options: InfinityRoutesOptions): Promise<void> {
  const { engine, maxInputsPerRequest } = options;
  app.post<{ Body: EmbeddingsBody }>('/embeddings', embeddingsRoute(engine, maxInputsPerRequest));
  app.get('/models', async () => modelsListBody(engine));

  app.post<{ Body: RerankBody }>('/rerank', { schema: rerankSchema }, async (request, reply) => {
    const body = request.body;
    checkModelId(body.model);
    if (body.documents.length > maxInputsPerRequest) {
      throw new EngineError('TOO_MANY_INPUTS', `documents has ${body.documents.length} entries; the limit per request is ${maxInputsPerRequest}`, { param: 'documents' });
    }
    const signal = clientGone(request, reply);
    const { scores } = await engine.withModel(body.model, { trusted: false, allowDownload: false }, (model) => model.score(body.query, body.documents, { signal }));
    const ranked = scores.map((relevance_score, index) => ({ index, relevance_score })).sort((a, b) => b.relevance_score - a.relevance_score);
    const top = ranked.slice(0, body.top_n ?? ranked.length);
    return {
      object: 'rerank',
      model: body.model,
      results: top.map((r) => (body.return_documents ? { ...r, document: body.documents[r.index] } : r)),
    };
  });

  app.post<{ Body: ClassifyBody }>('/classify', { schema: classifySchema }, async (request, reply) => {
    const body = request.body;
    checkModelId(body.model);
    const texts = typeof body.input === 'string' ? [body.input] : body.input;
    if (texts.length > maxInputsPerRequest) {
      throw new EngineError('TOO_MANY_INPUTS', `input has ${texts.length} entries; the limit per request is ${maxInputsPerRequest}`, { param: 'input' });
    }
    const signal = clientGone(request, reply);
    const data = await engine.withModel(body.model, { trusted: false, allowDownload: false }, (model) => model.classify(texts, { signal }));
    return { object: 'classify', model: body.model, data };
  });
}
