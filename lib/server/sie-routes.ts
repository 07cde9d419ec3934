/**
 * SIE's native API: POST /v1/encode/{model}, /v1/score/{model}, /v1/extract/{model} and
 * GET /v1/models/{model}, in JSON or msgpack (see sie-codec.ts), with SIE's errors, ids, timing
 * and headers. A model id may hold '/' raw (`/v1/encode/BAAI/bge-m3`, as SIE's Python SDK sends
 * it) or URL-encoded (`BAAI%2Fbge-m3`, as its TypeScript SDK does): each route takes the rest of
 * the path. A model that is not loaded yet gets a short grace, then a retryable 503
 * MODEL_LOADING with Retry-After while its load goes on, as SIE answers a cold model.
 */
import type { FastifyInstance } from 'fastify';
import type { Engine, ModelStatus } from '../engine/engine.js';
import { EngineError } from '../errors/engine-error.js';
import { OUTPUT_TYPES, type EncodedItem, type OutputType } from '../families/index.js';
import { clientGone } from './client-gone.js';
import type { LoadedModel, ModelEncodeOptions, Timing } from '../engine/loaded-model.js';
import { MAX_IMAGES_PER_REQUEST, sieImageBytes } from './image-inputs.js';
import { sieError } from './error-mapping.js';
import { installErrorHandler } from './error-handlers.js';
import { checkRequestModelId } from './request-model.js';
import { inputListSchema, modelIdSchema } from './route-schemas.js';
import { rankByScore } from './score-ranking.js';
import { noteTiming } from './request-timing.js';
import { acceptSieBodies, IMPLEMENTATION_HEADER, sendSie, SERVER_VERSION_HEADER, SIE_API_VERSION, timingHeaders } from './sie-codec.js';
import { NumpyArray } from './wire/numpy-array.js';
import { toOutputDtype } from './wire/output-dtype.js';
import type { EncodeRequest, EncodeResult, ExtractRequest, Item, ModelInfo, OutputDtype, ScoreRequest } from './wire/sie-api-types.js';

export interface SieRoutesOptions {
  engine: Engine;
  maxInputsPerRequest: number;
  overloadStatus: 503 | 429;
  /** How long a request waits for a cold model before 503 MODEL_LOADING (default 2000 ms). */
  coldLoadWaitMs?: number;
  /** This package's version, sent as X-SIE-Server-Implementation. */
  serverVersion: string;
  /** Body limit of SIE's POST routes, above the JSON routes' (msgpack bodies carry images). */
  bodyLimitBytes?: number;
}

/** `/v1/<route>/<model id, '/' allowed>`: the model id is the rest of the path. */
const modelPathSchema = { type: 'object', properties: { '*': modelIdSchema }, required: ['*'] } as const;
type ModelPath = { '*': string };

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
    params: modelPathSchema,
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

/**
 * Items with images through a model's vision tower (CLIP), the rest as text, answered in item
 * order. An item with both is embedded from its images, as SIE does.
 */
async function encodeWithImages(model: LoadedModel, items: Item[], options: ModelEncodeOptions): Promise<{ items: EncodedItem[]; timing: Timing }> {
  if (!model.adapter.images) textsOf(model.id, items, 'items');  // throws, naming the first item with images
  for (const type of options.outputTypes ?? []) {
    if (type !== 'dense') throw new EngineError('INVALID_INPUT', `images give dense outputs only, not '${type}'`, { param: 'params.output_types' });
  }
  const imageItems: number[] = [], textItems: number[] = [];
  items.forEach((item, i) => ((item.images && item.images.length > 0 ? imageItems : textItems).push(i)));
  const images = imageItems.map((i) => sieImageBytes(items[i].images!, `items[${i}].images`));
  const count = images.reduce((n, list) => n + list.length, 0);
  if (count > MAX_IMAGES_PER_REQUEST) {
    throw new EngineError('INVALID_INPUT', `a request may carry at most ${MAX_IMAGES_PER_REQUEST} images, this one has ${count}`, { param: 'items' });
  }
  const texts = textItems.map((i) => {
    const text = items[i].text;
    if (typeof text !== 'string') throw new EngineError('INVALID_INPUT', `items[${i}] has neither text nor images`, { param: `items[${i}]` });
    return text;
  });
  const [fromImages, fromTexts] = await Promise.all([
    model.encodeImages(images, { signal: options.signal, params: imageItems.map((i, n) => images[n].map((_, j) => `items[${i}].images[${j}]`)) }),
    texts.length > 0 ? model.encode(texts, options) : undefined,
  ]);
  const out: EncodedItem[] = new Array(items.length);
  imageItems.forEach((i, k) => (out[i] = fromImages.items[k]));
  textItems.forEach((i, k) => (out[i] = fromTexts!.items[k]));
  const text = fromTexts?.timing;
  return {
    items: out,
    timing: {
      queueMs: text?.queueMs ?? 0,
      tokenizationMs: Math.max(text?.tokenizationMs ?? 0, fromImages.timing.tokenizationMs),
      inferenceMs: Math.max(text?.inferenceMs ?? 0, fromImages.timing.inferenceMs),
    },
  };
}

function encodedResult(item: Item, encoded: EncodedItem, dtype: OutputDtype): EncodeResult {
  // SIE sends an id only when the item had one.
  const result: EncodeResult = item.id != null ? { id: item.id } : {};
  if (item.metadata) result.metadata = item.metadata;
  if (encoded.dense) result.dense = { dims: encoded.dense.length, dtype, values: toOutputDtype(encoded.dense, dtype) };
  if (encoded.sparse) {
    // Sparse values are float32 or float16 only (quantising them saves nothing next to the indices).
    const sparseDtype = dtype === 'float16' ? 'float16' : 'float32';
    result.sparse = { dims: encoded.sparse.dims, dtype: sparseDtype, indices: NumpyArray.int32(encoded.sparse.indices), values: toOutputDtype(encoded.sparse.values, sparseDtype) };
  }
  if (encoded.multivector) {
    const { values, numTokens, tokenDims } = encoded.multivector;
    result.multivector = { token_dims: tokenDims, num_tokens: numTokens, dtype, values: toOutputDtype(values, dtype, numTokens) };
  }
  return result;
}

/** SIE's ModelInfo for a catalogue entry (loaded, loading, failed or only available). */
export function modelInfo(status: ModelStatus): ModelInfo {
  const can = status.capabilities;
  return {
    name: status.id,
    inputs: ['text'],
    outputs: can ? [...can.outputs, ...can.tasks.filter((t) => t !== 'encode')] : [],
    dims: can ? (can.dims as Record<string, number>) : {},
    loaded: status.state === 'loaded',
    state: status.state,
    last_error: status.error ?? null,
    max_sequence_length: can?.maxSeqLength ?? null,
    ...(status.model ? { dtype: status.model.dtype } : {}),
  };
}

export async function sieRoutes(app: FastifyInstance, options: SieRoutesOptions): Promise<void> {
  const { engine, maxInputsPerRequest } = options;
  // SIE answers schema failures 400 (it validates with msgspec, not FastAPI's 422).
  installErrorHandler(app, { schemaStatus: 400, overloadStatus: options.overloadStatus, render: sieError });
  acceptSieBodies(app);
  app.addHook('onSend', async (_request, reply) => {
    reply.header(SERVER_VERSION_HEADER, SIE_API_VERSION);
    reply.header(IMPLEMENTATION_HEADER, `sie-server/${options.serverVersion}`);
  });
  const coldLoadWaitMs = options.coldLoadWaitMs ?? 2000;
  const bodyLimit = options.bodyLimitBytes ?? 64 * 1024 * 1024;
  const withModel = <T>(id: string, fn: (model: LoadedModel) => Promise<T>): Promise<T> => {
    checkRequestModelId(id);
    return engine.withModel(id, { trusted: false, allowDownload: false, loadWaitMs: coldLoadWaitMs }, fn);
  };

  const encodeSchema = itemsRequestSchema(maxInputsPerRequest, {
    output_types: { type: ['array', 'null'], items: { type: 'string' } },
    instruction: { type: ['string', 'null'] },
    output_dtype: { type: ['string', 'null'], enum: ['float32', 'float16', 'int8', 'uint8', 'binary', 'ubinary', null] },
    options: { type: ['object', 'null'] },
    is_query: { type: 'boolean' },
  });
  const scoreSchema = {
    params: modelPathSchema,
    body: { type: 'object', required: ['query', 'items'], properties: { query: itemSchema, items: inputListSchema(itemSchema, maxInputsPerRequest), instruction: { type: ['string', 'null'] } } },
  } as const;
  const extractSchema = itemsRequestSchema(maxInputsPerRequest, {
    labels: { type: ['array', 'null'], items: { type: 'string' } },
    threshold: { type: ['number', 'null'], minimum: 0, maximum: 1 },
    output_schema: { type: ['object', 'null'] },
    instruction: { type: ['string', 'null'] },
    options: { type: ['object', 'null'] },
  });

  app.post<{ Params: ModelPath; Body: EncodeRequest }>('/v1/encode/*', { bodyLimit, schema: encodeSchema }, async (request, reply) => {
    const started = performance.now();
    const params = request.body.params ?? {};
    const outputTypes: OutputType[] | undefined = params.output_types ?? undefined;
    for (const type of outputTypes ?? []) {
      if (!OUTPUT_TYPES.includes(type)) throw new EngineError('INVALID_INPUT', `unknown output type '${type}' (known: ${OUTPUT_TYPES.join(', ')})`, { param: 'params.output_types' });
    }
    const isQueryOption = params.options?.is_query ?? params.is_query;
    const isQuery = isQueryOption === undefined ? undefined : Boolean(isQueryOption);
    const profile = typeof params.options?.profile === 'string' ? params.options.profile : undefined;
    const signal = clientGone(request, reply);
    const id = request.params['*'];
    const bodyItems = request.body.items;
    const withImages = bodyItems.some((item) => item.images && item.images.length > 0);
    const encodeOptions = { outputTypes, isQuery, instruction: params.instruction ?? undefined, profile, signal };
    const encoded = noteTiming(request, await withModel(id, (model) => (withImages
      ? encodeWithImages(model, bodyItems, encodeOptions)
      : model.encode(textsOf(id, bodyItems, 'items'), encodeOptions))));
    const post = performance.now();
    const dtype = params.output_dtype ?? 'float32';
    const items = request.body.items.map((item, i) => encodedResult(item, encoded.items[i], dtype));
    const done = performance.now();
    const { queueMs, tokenizationMs, inferenceMs } = encoded.timing;
    const timing = { total_ms: done - started, queue_ms: queueMs, tokenization_ms: tokenizationMs, inference_ms: inferenceMs, postprocessing_ms: done - post };
    return sendSie(request, reply, { model: id, items, timing }, timingHeaders(timing));
  });

  app.post<{ Params: ModelPath; Body: ScoreRequest }>('/v1/score/*', { bodyLimit, schema: scoreSchema }, async (request, reply) => {
    const signal = clientGone(request, reply);
    const id = request.params['*'];
    const [query] = textsOf(id, [request.body.query], 'query');
    const documents = textsOf(id, request.body.items, 'items');
    const { scores } = noteTiming(request, await withModel(id, (model) => model.score(query, documents, { instruction: request.body.instruction, signal })));
    const entries = rankByScore(scores, (score, i) => ({ item_id: request.body.items[i].id ?? `item-${i}`, score }));
    return sendSie(request, reply, { model: id, query_id: request.body.query.id ?? null, scores: entries });
  });

  app.post<{ Params: ModelPath; Body: ExtractRequest }>('/v1/extract/*', { bodyLimit, schema: extractSchema }, async (request, reply) => {
    const labels = request.body.params?.labels ?? undefined;
    // SIE's TypeScript SDK sends params.threshold; GLiNER-style callers put it in params.options.
    const optionThreshold = request.body.params?.options?.threshold;
    const threshold = request.body.params?.threshold ?? (typeof optionThreshold === 'number' ? optionThreshold : undefined);
    const signal = clientGone(request, reply);
    const id = request.params['*'];
    const texts = textsOf(id, request.body.items, 'items');
    const { items } = noteTiming(request, await withModel(id, (model) => model.extract(texts, { labels, threshold, signal })));
    return sendSie(request, reply, {
      model: id,
      items: items.map((found, i) => ({ id: request.body.items[i].id ?? `item-${i}`, entities: found.entities, relations: [], classifications: found.classifications, data: {} })),
    });
  });

  app.get<{ Params: ModelPath }>('/v1/models/*', { schema: { params: modelPathSchema } }, async (request, reply) => {
    const id = request.params['*'];
    const status = await engine.catalogueEntry(id);
    if (!status) throw new EngineError('MODEL_NOT_FOUND', `model '${id}' is not known to this server`, { param: 'model' });
    return reply.send(modelInfo(status));
  });
}
