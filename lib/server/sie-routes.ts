/**
 * SIE's native API: POST /v1/encode/{model}, /v1/score/{model}, /v1/extract/{model} and
 * GET /v1/models/{model}, in JSON or msgpack (see sie-codec.ts), with SIE's error shape. Model
 * ids arrive URL-encoded (`BAAI%2Fbge-m3`).
 */
import type { FastifyInstance } from 'fastify';
import type { Engine, ModelStatus } from '../engine/engine.js';
import { EngineError } from '../errors/engine-error.js';
import { OUTPUT_TYPES, type EncodedItem, type OutputType } from '../families/index.js';
import { clientGone } from './client-gone.js';
import { sieErrorBody } from './error-mapping.js';
import { installErrorHandler } from './error-handlers.js';
import { withRequestModel } from './request-model.js';
import { inputListSchema, modelParamsSchema } from './route-schemas.js';
import { rankByScore } from './score-ranking.js';
import { acceptMsgpackBodies, sendSie } from './sie-codec.js';
import { convertValues } from './wire/output-dtype.js';
import type { EncodeRequest, EncodeResult, ExtractRequest, Item, ModelInfo, OutputDtype, ScoreRequest } from './wire/sie-api-types.js';

export interface SieRoutesOptions {
  engine: Engine;
  maxInputsPerRequest: number;
  overloadStatus: 503 | 429;
}

const itemSchema = {
  type: 'object',
  properties: {
    id: { type: ['string', 'null'] },
    text: { type: ['string', 'null'] },
    images: { type: ['array', 'null'] },
    metadata: { type: ['object', 'null'] },
  },
} as const;

/** `{items, params?}` bodies (encode, extract) differ only in their params. */
function itemsRequestSchema(maxInputs: number, paramsProperties: Record<string, unknown>) {
  return {
    params: modelParamsSchema,
    body: { type: 'object', required: ['items'], properties: { items: inputListSchema(itemSchema, maxInputs), params: { type: ['object', 'null'], properties: paramsProperties } } },
  } as const;
}

/** The text of each item; images or missing text are 400s naming the item. */
function textsOf(modelId: string, items: Item[], field: string): string[] {
  if (items.length === 0) throw new EngineError('INVALID_INPUT', `${field} must not be empty`, { param: field });
  return items.map((item, i) => {
    if (item.images && item.images.length > 0) {
      throw new EngineError('INVALID_INPUT', `${field}[${i}] has images, but model ${modelId} accepts text only`, { param: `${field}[${i}].images` });
    }
    if (typeof item.text !== 'string') throw new EngineError('INVALID_INPUT', `${field}[${i}] has no text`, { param: `${field}[${i}].text` });
    return item.text;
  });
}

function withInstruction(texts: string[], instruction: string | null | undefined): string[] {
  return instruction ? texts.map((t) => `${instruction}${t}`) : texts;
}

function encodedResult(item: Item, encoded: EncodedItem, dtype: OutputDtype): EncodeResult {
  const result: EncodeResult = { id: item.id ?? null };
  if (item.metadata) result.metadata = item.metadata;
  if (encoded.dense) result.dense = { dims: encoded.dense.length, dtype, values: convertValues(encoded.dense, dtype) };
  if (encoded.sparse) {
    const sparseDtype = dtype === 'float16' ? 'float16' : 'float32';
    result.sparse = { dims: encoded.sparse.dims, dtype: sparseDtype, indices: Array.from(encoded.sparse.indices), values: convertValues(encoded.sparse.values, sparseDtype) };
  }
  if (encoded.multivector) {
    const { values, numTokens, tokenDims } = encoded.multivector;
    result.multivector = {
      token_dims: tokenDims,
      num_tokens: numTokens,
      dtype,
      values: Array.from({ length: numTokens }, (_, t) => convertValues(values.subarray(t * tokenDims, (t + 1) * tokenDims), dtype)),
    };
  }
  return result;
}

/** SIE's ModelInfo for a registry entry. */
export function modelInfo(status: ModelStatus): ModelInfo {
  const model = status.model;
  return {
    name: status.id,
    inputs: ['text'],
    outputs: model ? [...model.outputs, ...model.tasks.filter((t) => t !== 'encode')] : [],
    dims: model ? (model.dims as Record<string, number>) : {},
    loaded: status.state === 'loaded',
    state: status.state,
    last_error: status.error ?? null,
    max_sequence_length: model?.maxSeqLength ?? null,
    ...(model ? { dtype: model.dtype } : {}),
  };
}

export async function sieRoutes(app: FastifyInstance, options: SieRoutesOptions): Promise<void> {
  const { engine, maxInputsPerRequest } = options;
  installErrorHandler(app, { schemaStatus: 422, overloadStatus: options.overloadStatus, body: sieErrorBody });
  acceptMsgpackBodies(app);

  const encodeSchema = itemsRequestSchema(maxInputsPerRequest, {
    output_types: { type: ['array', 'null'], items: { type: 'string' } },
    instruction: { type: ['string', 'null'] },
    output_dtype: { type: ['string', 'null'], enum: ['float32', 'float16', 'int8', 'uint8', 'binary', 'ubinary', null] },
    options: { type: ['object', 'null'] },
    is_query: { type: 'boolean' },
  });
  const scoreSchema = {
    params: modelParamsSchema,
    body: { type: 'object', required: ['query', 'items'], properties: { query: itemSchema, items: inputListSchema(itemSchema, maxInputsPerRequest), instruction: { type: ['string', 'null'] } } },
  } as const;
  const extractSchema = itemsRequestSchema(maxInputsPerRequest, {
    labels: { type: ['array', 'null'], items: { type: 'string' } },
    output_schema: { type: ['object', 'null'] },
    instruction: { type: ['string', 'null'] },
    options: { type: ['object', 'null'] },
  });

  app.post<{ Params: { model: string }; Body: EncodeRequest }>('/v1/encode/:model', { schema: encodeSchema }, async (request, reply) => {
    const started = performance.now();
    const params = request.body.params ?? {};
    const outputTypes: OutputType[] = params.output_types ?? ['dense'];
    for (const type of outputTypes) {
      if (!OUTPUT_TYPES.includes(type)) throw new EngineError('INVALID_INPUT', `unknown output type '${type}' (known: ${OUTPUT_TYPES.join(', ')})`, { param: 'params.output_types' });
    }
    const isQuery = Boolean(params.options?.is_query ?? params.is_query);
    const signal = clientGone(request, reply);
    const id = request.params.model;
    const encoded = await withRequestModel(engine, id, (model) => model.encode(withInstruction(textsOf(id, request.body.items, 'items'), params.instruction), { outputTypes, isQuery, signal }));
    const post = performance.now();
    const dtype = params.output_dtype ?? 'float32';
    const items = request.body.items.map((item, i) => encodedResult(item, encoded.items[i], dtype));
    const done = performance.now();
    const { queueMs, tokenizationMs, inferenceMs } = encoded.timing;
    return sendSie(request, reply, {
      model: id,
      items,
      timing: { total_ms: done - started, queue_ms: queueMs, tokenization_ms: tokenizationMs, inference_ms: inferenceMs, postprocessing_ms: done - post },
    });
  });

  app.post<{ Params: { model: string }; Body: ScoreRequest }>('/v1/score/:model', { schema: scoreSchema }, async (request, reply) => {
    const signal = clientGone(request, reply);
    const id = request.params.model;
    const [query] = textsOf(id, [request.body.query], 'query');
    const documents = textsOf(id, request.body.items, 'items');
    const { scores } = await withRequestModel(engine, id, (model) => model.score(request.body.instruction ? `${request.body.instruction}${query}` : query, documents, { signal }));
    const entries = rankByScore(scores, (score, i) => ({ item_id: request.body.items[i].id ?? String(i), score }));
    return sendSie(request, reply, { model: id, query_id: request.body.query.id ?? null, scores: entries });
  });

  app.post<{ Params: { model: string }; Body: ExtractRequest }>('/v1/extract/:model', { schema: extractSchema }, async (request, reply) => {
    const labels = request.body.params?.labels ?? undefined;
    const signal = clientGone(request, reply);
    const id = request.params.model;
    const texts = textsOf(id, request.body.items, 'items');
    const { items } = await withRequestModel(engine, id, (model) => model.extract(texts, { labels, signal }));
    return sendSie(request, reply, {
      model: id,
      items: items.map((found, i) => ({ id: request.body.items[i].id ?? String(i), entities: found.entities, relations: [], classifications: found.classifications, data: {} })),
    });
  });

  app.get<{ Params: { model: string } }>('/v1/models/:model', { schema: { params: modelParamsSchema } }, async (request, reply) => {
    const status = engine.status(request.params.model);
    if (!status) throw new EngineError('MODEL_NOT_FOUND', `model '${request.params.model}' is not known to this server`, { param: 'model' });
    return reply.send(modelInfo(status));
  });
}
