/**
 * Infinity's routes: POST /embeddings (OpenAI shape; `modality: "image"` for CLIP), /embeddings_image,
 * /rerank, /classify and GET /models, so
 * Infinity clients can switch by changing the base URL. Errors in OpenAI's shape, as Infinity's.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../engine/engine.js';
import { EngineError } from '../errors/engine-error.js';
import { clientGone } from './client-gone.js';
import { checkImageSize, dataUriBytes, MAX_IMAGES_PER_REQUEST } from './image-inputs.js';
import type { ImageUrlFetcher } from '../images/image-url-fetch.js';
import { installErrorHandler, withBody } from './error-handlers.js';
import { openAIErrorBody } from './error-mapping.js';
import { embeddingsRoute, modelsListBody, type EmbeddingsBody } from './openai-routes.js';
import { sendEmbeddings } from './wire/embeddings-json.js';
import { withRequestModel } from './request-model.js';
import { noteTiming } from './request-timing.js';
import { inputListSchema, modelIdSchema } from './route-schemas.js';
import { rankByScore } from './score-ranking.js';

export interface InfinityRoutesOptions {
  engine: Engine;
  maxInputsPerRequest: number;
  overloadStatus: 503 | 429;
  /** Present when the server runs with --allow-image-urls: image inputs may be http(s) URLs. */
  imageUrls?: ImageUrlFetcher;
}

interface ImageEmbeddingsBody extends EmbeddingsBody {
  modality?: string;
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

  // Infinity's /embeddings takes `modality: "image"` with data: URIs (and its legacy
  // /embeddings_image); the vectors come from the model's vision tower (CLIP).
  const textEmbeddings = embeddingsRoute(engine, maxInputsPerRequest);
  app.post<{ Body: ImageEmbeddingsBody }>('/embeddings', { schema: textEmbeddings.schema }, async (request, reply) => {
    const modality = request.body.modality ?? 'text';
    if (modality === 'text') return textEmbeddings.handler(request, reply);
    if (modality !== 'image') throw new EngineError('INVALID_INPUT', `modality must be 'text' or 'image', got '${String(modality)}'`, { param: 'modality' });
    return imageEmbeddings(request, reply);
  });
  app.post<{ Body: ImageEmbeddingsBody }>('/embeddings_image', { schema: textEmbeddings.schema }, imageEmbeddings);

  /** A data URI, or with --allow-image-urls an http(s) URL fetched under its limits. */
  async function imageInputBytes(input: unknown, param: string, signal: AbortSignal): Promise<Uint8Array> {
    if (options.imageUrls && typeof input === 'string' && /^https?:\/\//i.test(input)) return checkImageSize(await options.imageUrls.fetch(input, param, signal), param);
    return dataUriBytes(input, param);
  }

  async function imageEmbeddings(request: FastifyRequest<{ Body: ImageEmbeddingsBody }>, reply: FastifyReply) {
    const body = request.body;
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    if (!Array.isArray(inputs) || inputs.length === 0) throw new EngineError('INVALID_INPUT', 'input must be a data URI or a non-empty list of them', { param: 'input' });
    if (inputs.length > MAX_IMAGES_PER_REQUEST) {
      throw new EngineError('INVALID_INPUT', `a request may carry at most ${MAX_IMAGES_PER_REQUEST} images, this one has ${inputs.length}`, { param: 'input' });
    }
    const signal = clientGone(request, reply);
    const images = await Promise.all(inputs.map(async (uri, i) => [await imageInputBytes(uri, `input[${i}]`, signal)]));
    const { items } = noteTiming(request, await withRequestModel(engine, body.model, (model) => model.encodeImages(images, { signal, params: inputs.map((_, i) => [`input[${i}]`]) })));
    return sendEmbeddings(reply, items.map((item) => item.dense!), body.model, 0, body.encoding_format ?? 'float');
  }
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
