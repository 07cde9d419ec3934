/**
 * SIEClient: a drop-in for SIE's TypeScript SDK against one server (sie-server or SIE): the same
 * class, method and option names (`timeout`, `outputTypes`, `isQuery`, `outputDtype`, `labels`),
 * the same results (typed arrays, camelCase `itemId`), the same error classes and retry rules:
 * a 503 MODEL_LOADING is retried after its Retry-After until `provisionTimeout`, any other 503
 * only with `waitForCapacity`, a 502 MODEL_LOAD_FAILED never. msgpack on the wire; no native
 * addon. sie-server's admin routes are extra methods (loadModel, unloadModel, health).
 */
import { encode } from '@msgpack/msgpack';
import type { Item } from '../server/wire/sie-api-types.js';
import { ModelLoadFailedError, ModelLoadingError, RequestError, ServerError, SIEConnectionError, SIEError } from './errors.js';
import { decodeSieMsgpack, type NumericArray } from './msgpack-numpy.js';
import type { EncodeOptions, EncodeResult, ExtractOptions, ExtractResult, ModelInfo, ScoreOptions, ScoreResult, SIEClientOptions } from './types.js';

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_PROVISION_TIMEOUT_MS = 300_000;
const DEFAULT_RETRY_DELAY_MS = 1_000;

interface WireEncodeItem {
  id?: string;
  dense?: { values: NumericArray | number[] };
  sparse?: { indices: Int32Array | number[]; values: NumericArray | number[] };
  multivector?: { values: Array<NumericArray | number[]> };
}

interface WireTiming {
  total_ms?: number;
  queue_ms?: number;
  tokenization_ms?: number;
  inference_ms?: number;
}

export interface WireModelInfo {
  name: string;
  loaded: boolean;
  inputs: string[];
  outputs: string[];
  dims?: Record<string, number>;
  max_sequence_length?: number | null;
  state?: string;
  last_error?: { code: string; message: string; attempts: number; permanent: boolean } | null;
}

export class SIEClient {
  private readonly baseUrl: string;
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  constructor(baseUrl: string, private readonly options: SIEClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async encode(model: string, item: Item, options?: EncodeOptions): Promise<EncodeResult>;
  async encode(model: string, items: Item[], options?: EncodeOptions): Promise<EncodeResult[]>;
  async encode(model: string, items: Item | Item[], options: EncodeOptions = {}): Promise<EncodeResult | EncodeResult[]> {
    const params: Record<string, unknown> = {};
    if (options.outputTypes) params.output_types = options.outputTypes;
    if (options.instruction !== undefined) params.instruction = options.instruction;
    if (options.isQuery !== undefined) params.is_query = options.isQuery;
    if (options.outputDtype !== undefined) params.output_dtype = options.outputDtype;
    const body = { items: Array.isArray(items) ? items : [items], ...(Object.keys(params).length > 0 ? { params } : {}) };
    const data = await this.post<{ items: WireEncodeItem[]; timing?: WireTiming }>(`/v1/encode/${encodeURIComponent(model)}`, body, model, options.waitForCapacity);
    const results = data.items.map((item) => toEncodeResult(item, data.timing));
    return Array.isArray(items) ? results : results[0];
  }

  async score(model: string, query: Item, items: Item[], options: ScoreOptions = {}): Promise<ScoreResult> {
    const data = await this.post<{ model: string; query_id?: string | null; scores: Array<{ item_id: string; score: number; rank: number }> }>(`/v1/score/${encodeURIComponent(model)}`, { query, items }, model, options.waitForCapacity);
    return {
      model: data.model,
      ...(data.query_id != null ? { queryId: data.query_id } : {}),
      scores: data.scores.map((s) => ({ itemId: s.item_id, score: s.score, rank: s.rank })),
    };
  }

  async extract(model: string, item: Item, options: ExtractOptions): Promise<ExtractResult>;
  async extract(model: string, items: Item[], options: ExtractOptions): Promise<ExtractResult[]>;
  async extract(model: string, items: Item | Item[], options: ExtractOptions): Promise<ExtractResult | ExtractResult[]> {
    const params: Record<string, unknown> = { labels: options.labels };
    if (options.threshold !== undefined) params.threshold = options.threshold;
    const data = await this.post<{ items: ExtractResult[] }>(`/v1/extract/${encodeURIComponent(model)}`, { items: Array.isArray(items) ? items : [items], params }, model, options.waitForCapacity);
    const results = data.items.map((r) => ({ id: r.id, entities: r.entities ?? [], relations: r.relations ?? [], classifications: r.classifications ?? [], objects: r.objects ?? [] }));
    return Array.isArray(items) ? results : results[0];
  }

  async listModels(): Promise<ModelInfo[]> {
    return (await this.modelStates()).map(toModelInfo);
  }

  /** sie-server: the catalogue as the server sends it, with each model's state and last load error. */
  async modelStates(): Promise<WireModelInfo[]> {
    return (await this.request<{ models: WireModelInfo[] }>('GET', '/v1/models')).models;
  }

  async getModel(name: string): Promise<ModelInfo> {
    return toModelInfo(await this.modelState(name));
  }

  /** sie-server: one model as the server sends it, with its state and last load error. */
  async modelState(name: string): Promise<WireModelInfo> {
    return this.request<WireModelInfo>('GET', `/v1/models/${encodeURIComponent(name)}`);
  }

  /** sie-server's admin route: load a model now (optionally pinned against eviction). */
  async loadModel(name: string, options: { pin?: boolean } = {}): Promise<void> {
    await this.request('POST', `/v1/admin/models/${encodeURIComponent(name)}/load${options.pin ? '?pin=true' : ''}`);
  }

  /** sie-server's admin route: unload a model. */
  async unloadModel(name: string): Promise<void> {
    await this.request('POST', `/v1/admin/models/${encodeURIComponent(name)}/unload`);
  }

  /** Liveness and readiness: { healthy, ready }. */
  async health(): Promise<{ healthy: boolean; ready: boolean }> {
    const probe = async (route: string) => this.request('GET', route).then(() => true, () => false);
    return { healthy: await probe('/healthz'), ready: await probe('/readyz') };
  }

  /** Aborts requests in flight; later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
  }

  /** A model request with SIE's retry rules. */
  private async post<T>(route: string, body: unknown, model: string, waitForCapacity?: boolean): Promise<T> {
    const deadline = Date.now() + (this.options.provisionTimeout ?? DEFAULT_PROVISION_TIMEOUT_MS);
    const wait = waitForCapacity ?? this.options.waitForCapacity ?? false;
    for (;;) {
      try {
        return await this.request<T>('POST', route, body);
      } catch (error) {
        const retryable = error instanceof ServerError && error.statusCode === 503 && (error.code === 'MODEL_LOADING' || wait);
        const delay = (error as { retryAfterMs?: number }).retryAfterMs ?? DEFAULT_RETRY_DELAY_MS;
        if (!retryable || Date.now() + delay > deadline) {
          if (error instanceof ServerError && error.code === 'MODEL_LOADING') throw new ModelLoadingError(`model ${model} is still loading after the wait budget: ${error.message}`, model);
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async request<T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> {
    if (this.closed) throw new SIEConnectionError('the client has been closed');
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timer = setTimeout(() => controller.abort(), this.options.timeout ?? DEFAULT_TIMEOUT_MS);
    try {
      const headers: Record<string, string> = { accept: 'application/msgpack' };
      if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
      let payload: ArrayBuffer | undefined;
      if (body !== undefined) {
        headers['content-type'] = 'application/msgpack';
        payload = encode(body, { ignoreUndefined: true }).slice().buffer as ArrayBuffer;
      }
      let response: Response;
      try {
        response = await fetch(`${this.baseUrl}${route}`, { method, headers, body: payload, signal: controller.signal });
      } catch (error) {
        if (controller.signal.aborted) throw new SIEConnectionError(this.closed ? 'the client has been closed' : `request to ${route} timed out`, 'timeout');
        throw new SIEConnectionError(`cannot reach ${this.baseUrl}: ${(error as Error).message}`, 'connect');
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      const type = response.headers.get('content-type') ?? '';
      let data: unknown = null;
      if (bytes.length > 0) {
        try {
          data = type.includes('msgpack') ? decodeSieMsgpack(bytes) : JSON.parse(new TextDecoder().decode(bytes));
        } catch {
          data = null;
        }
      }
      if (!response.ok) throw errorFrom(response, data);
      return data as T;
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }
}

/** JSON answers carry plain lists: they become the typed arrays msgpack gives. */
const floats = (v: NumericArray | number[]): NumericArray => (Array.isArray(v) ? Float32Array.from(v) : v);

function toEncodeResult(item: WireEncodeItem, timing?: WireTiming): EncodeResult {
  return {
    ...(item.id !== undefined ? { id: item.id } : {}),
    ...(item.dense ? { dense: floats(item.dense.values) } : {}),
    ...(item.sparse ? { sparse: { indices: Array.isArray(item.sparse.indices) ? Int32Array.from(item.sparse.indices) : item.sparse.indices, values: floats(item.sparse.values) } } : {}),
    ...(item.multivector ? { multivector: item.multivector.values.map(floats) } : {}),
    ...(timing ? { timing: { totalMs: timing.total_ms, queueMs: timing.queue_ms, tokenizationMs: timing.tokenization_ms, inferenceMs: timing.inference_ms } } : {}),
  };
}

function toModelInfo(m: WireModelInfo): ModelInfo {
  return { name: m.name, loaded: m.loaded, inputs: m.inputs, outputs: m.outputs, dims: m.dims, maxSequenceLength: m.max_sequence_length ?? undefined };
}

/** The typed error for a failed response: SIE's `error` or `detail`, its code and Retry-After. */
function errorFrom(response: Response, data: unknown): SIEError {
  const body = (data ?? {}) as { error?: Record<string, unknown>; detail?: Record<string, unknown> | string };
  const detail = body.error ?? (typeof body.detail === 'object' ? body.detail : undefined) ?? {};
  const code = typeof detail.code === 'string' ? detail.code : undefined;
  const message = typeof detail.message === 'string' ? detail.message : typeof body.detail === 'string' ? body.detail : `HTTP ${response.status}`;
  if (response.status === 502 && code === 'MODEL_LOAD_FAILED') {
    return new ModelLoadFailedError(message, { errorClass: detail.error_class as string | undefined, permanent: detail.permanent !== false, attempts: Number(detail.attempts ?? 1) || 1 });
  }
  const error = response.status >= 500 ? new ServerError(message, code, response.status) : new RequestError(message, code, response.status);
  const retryAfter = Number(response.headers.get('retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter >= 0 && response.headers.has('retry-after')) Object.assign(error, { retryAfterMs: retryAfter * 1000 });
  return error;
}
