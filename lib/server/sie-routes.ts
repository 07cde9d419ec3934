/**
 * SIE's native API: POST /v1/encode/{model}, /v1/score/{model}, /v1/extract/{model} and
 * GET /v1/models/{model}, in JSON or msgpack (see sie-codec.ts). Model ids arrive URL-encoded
 * (`BAAI%2Fbge-m3`).
 */
import type { FastifyInstance } from 'fastify';
import type { Engine, ModelStatus } from '../engine/engine.js';
import { EngineError } from '../engine/engine-error.js';
import type { EncodedItem, LoadedModel } from '../engine/loaded-model.js';
import { convertValues } from '../engine/output-dtype.js';
import { isSafeModelId } from '../models/model-id.js';
import type { EncodeRequest, EncodeResult, ExtractRequest, ExtractResult, Item, ModelInfo, OutputDtype, ScoreRequest } from '../sdk/api-types.js';
import { clientGone } from './client-gone.js';
import { acceptMsgpackBodies, sendSie } from './sie-codec.js';

export interface SieRoutesOptions {
  engine: Engine;
  maxInputsPerRequest: number;
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

const itemsSchema = { type: 'array', items: itemSchema } as const;
const modelParams = { type: 'object', properties: { model: { type: 'string', minLength: 1, maxLength: 512 } }, required: ['model'] } as const;

/** `{items, params?}` bodies (encode, extract) differ only in their params. */
function itemsRequestSchema(paramsProperties: Record<string, unknown>) {
  return {
    params: modelParams,
    body: { type: 'object', required: ['items'], properties: { items: itemsSchema, params: { type: ['object', 'null'], properties: paramsProperties } } },
  } as const;
}

const encodeSchema = itemsRequestSchema({
  output_types: { type: ['array', 'null'], items: { type: 'string' } },
  instruction: { type: ['string', 'null'] },
  output_dtype: { type: ['string', 'null'], enum: ['float32', 'float16', 'int8', 'uint8', 'binary', 'ubinary', null] },
  options: { type: ['object', 'null'] },
  is_query: { type: 'boolean' },
});

const scoreSchema = {
  params: modelParams,
  body: { type: 'object', required: ['query', 'items'], properties: { query: itemSchema, items: itemsSchema, instruction: { type: ['string', 'null'] } } },
} as const;

const extractSchema = itemsRequestSchema({
  labels: { type: ['array', 'null'], items: { type: 'string' } },
  output_schema: { type: ['object', 'null'] },
  instruction: { type: ['string', 'null'] },
  options: { type: ['object', 'null'] },
});

const OUTPUT_TYPES = new Set(['dense', 'sparse', 'multivector']);

/** The text of each item; images or missing text are 400s naming the item. */
function textsOf(model: LoadedModel, items: Item[], field: string, maxInputs: number): string[] {
  if (items.length === 0) throw new EngineError('INVALID_INPUT', `${field} must not be empty`, { param: field });
  if (items.length > maxInputs) throw new EngineError('TOO_MANY_INPUTS', `${field} has ${items.length} entries; the limit per request is ${maxInputs}`, { param: field });
  return items.map((item, i) => {
    if (item.images && item.images.length > 0) {
      throw new EngineError('INVALID_INPUT', `${field}[${i}] has images, but model ${model.id} accepts text only`, { param: `${field}[${i}].images` });
    }
    if (typeof item.text !== 'string') throw new EngineError('INVALID_INPUT', `${field}[${i}] has no text`, { param: `${field}[${i}].text` });
    return item.text;
  });
}

function withInstruction(texts: string[], instruction: string | null | undefined): string[] {
  return instruction ? texts.map((t) => `${instruction}${t}`) : texts;
}

/** Runs fn with the request's model held (HTTP ids only: never paths or downloads). */
function withRequestModel<T>(engine: Engine, id: string, fn: (model: LoadedModel) => Promise<T>): Promise<T> {
  if (!isSafeModelId(id)) throw new EngineError('MODEL_NOT_FOUND', `model '${id}' does not exist`, { param: 'model' });
  return engine.withModel(id, { trusted: false, allowDownload: false }, fn);
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

async function extractItems(model: LoadedModel, texts: string[], ids: string[], labels: string[] | undefined, signal: AbortSignal): Promise<ExtractResult[]> {
  if (model.head.kind === 'token-classifier') {
    const entities = await model.extractEntities(texts, { labels, signal });
    return entities.map((list, i) => ({ id: ids[i], entities: list, relations: [], classifications: [], data: {} }));
  }
  if (labels && labels.length > 0 && model.head.kind === 'sequence-classifier') {
    const known = new Set(model.head.labels);
    const unknown = labels.find((l) => !known.has(l));
    if (unknown !== undefined) throw new EngineError('INVALID_INPUT', `label '${unknown}' is not a label of model ${model.id} (labels: ${[...known].join(', ')})`, { param: 'params.labels' });
  }
  const classifications = await model.classify(texts, { signal });
  return classifications.map((list, i) => ({
    id: ids[i],
    entities: [],
    relations: [],
    classifications: labels && labels.length > 0 ? list.filter((c) => labels.includes(c.label)) : list,
    data: {},
  }));
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
  };
}

export async function sieRoutes(app: FastifyInstance, options: SieRoutesOptions): Promise<void> {
  const { engine, maxInputsPerRequest } = options;
  acceptMsgpackBodies(app);

  app.post<{ Params: { model: string }; Body: EncodeRequest }>('/v1/encode/:model', { schema: encodeSchema }, async (request, reply) => {
    const started = performance.now();
    const params = request.body.params ?? {};
    const outputTypes = params.output_types ?? ['dense'];
    for (const type of outputTypes) {
      if (!OUTPUT_TYPES.has(type)) throw new EngineError('INVALID_INPUT', `unknown output type '${type}' (known: dense, sparse, multivector)`, { param: 'params.output_types' });
    }
    const isQuery = Boolean(params.options?.is_query ?? params.is_query);
    const signal = clientGone(request, reply);
    const encoded = await withRequestModel(engine, request.params.model, (model) => {
      const texts = withInstruction(textsOf(model, request.body.items, 'items', maxInputsPerRequest), params.instruction);
      return model.encode(texts, { outputTypes, isQuery, signal });
    });
    const post = performance.now();
    const dtype = params.output_dtype ?? 'float32';
    const items = request.body.items.map((item, i) => encodedResult(item, encoded.items[i], dtype));
    const done = performance.now();
    return sendSie(request, reply, {
      model: request.params.model,
      items,
      timing: { total_ms: done - started, queue_ms: 0, tokenization_ms: encoded.timing.tokenizationMs, inference_ms: encoded.timing.inferenceMs, postprocessing_ms: done - post },
    });
  });

  app.post<{ Params: { model: string }; Body: ScoreRequest }>('/v1/score/:model', { schema: scoreSchema }, async (request, reply) => {
    const signal = clientGone(request, reply);
    const { scores } = await withRequestModel(engine, request.params.model, (model) => {
      const [query] = textsOf(model, [request.body.query], 'query', 1);
      const documents = textsOf(model, request.body.items, 'items', maxInputsPerRequest);
      return model.score(request.body.instruction ? `${request.body.instruction}${query}` : query, documents, { signal });
    });
    const entries = scores
      .map((score, i) => ({ item_id: request.body.items[i].id ?? String(i), score }))
      .sort((a, b) => b.score - a.score)
      .map((entry, rank) => ({ ...entry, rank }));
    return sendSie(request, reply, { model: request.params.model, query_id: request.body.query.id ?? null, scores: entries });
  });

  app.post<{ Params: { model: string }; Body: ExtractRequest }>('/v1/extract/:model', { schema: extractSchema }, async (request, reply) => {
    const labels = request.body.params?.labels ?? undefined;
    const ids = request.body.items.map((item, i) => item.id ?? String(i));
    const signal = clientGone(request, reply);
    const items = await withRequestModel(engine, request.params.model, (model) => extractItems(model, textsOf(model, request.body.items, 'items', maxInputsPerRequest), ids, labels, signal));
    return sendSie(request, reply, { model: request.params.model, items });
  });

  app.get<{ Params: { model: string } }>('/v1/models/:model', { schema: { params: modelParams } }, async (request, reply) => {
    const status = engine.status(request.params.model);
    if (!status) throw new EngineError('MODEL_NOT_FOUND', `model '${request.params.model}' is not known to this server`, { param: 'model' });
    return reply.send(modelInfo(status));
  });
}
