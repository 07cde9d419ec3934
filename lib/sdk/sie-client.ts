/**
 * SIEClient: the typed client for SIE's native API, with the method names and shapes of SIE's
 * TypeScript SDK. msgpack on the wire, dense vectors as Float32Array, errors as SIEError with
 * the server's code. Retries only what SIE allows: 503 with Retry-After (model loading, server
 * saturated), never 502 (a failed model load). Needs no native addon.
 */
import { encode } from '@msgpack/msgpack';
import type { ClassificationResult, EntityResult, Item, ModelInfo, OutputDtype, OutputType, ScoreResponse } from '../server/wire/sie-api-types.js';
import { decodeSieMsgpack, type NumericArray } from './msgpack-numpy.js';

export interface SIEClientOptions {
  timeoutMs?: number;
  apiKey?: string;
  /** Retries of a 503 with Retry-After (default 3). */
  maxRetries?: number;
  /** Longest wait honoured from a Retry-After header (default 30 s). */
  maxRetryDelayMs?: number;
}

export interface EncodeOptions {
  outputTypes?: OutputType[];
  instruction?: string;
  isQuery?: boolean;
  outputDtype?: OutputDtype;
}

export interface ExtractOptions {
  labels?: string[];
}

export type ItemInput = Item | string;

/** One encoded item, as SIE's TypeScript SDK returns it: typed arrays (Int8Array / Uint8Array for quantised dtypes). */
export interface EncodedItem {
  id?: string;
  metadata?: Record<string, unknown> | null;
  dense?: NumericArray;
  sparse?: { indices: Int32Array; values: NumericArray; dims?: number | null };
  /** One array per token. */
  multivector?: NumericArray[];
}

export interface ExtractedItem {
  id: string;
  entities: EntityResult[];
  classifications: ClassificationResult[];
  relations: unknown[];
  data: Record<string, unknown>;
}

export class SIEError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly retryAfterMs?: number) {
    super(message);
    this.name = 'SIEError';
  }
}

interface RawEncodeResponse {
  items: Array<{
    id?: string;
    metadata?: Record<string, unknown> | null;
    dense?: { values: NumericArray };
    sparse?: { indices: Int32Array; values: NumericArray; dims?: number | null };
    multivector?: { values: NumericArray[] };
  }>;
}

export class SIEClient {
  private readonly baseUrl: string;
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  constructor(baseUrl: string, private readonly options: SIEClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async encode(model: string, items: ItemInput, options?: EncodeOptions): Promise<EncodedItem>;
  async encode(model: string, items: ItemInput[], options?: EncodeOptions): Promise<EncodedItem[]>;
  async encode(model: string, items: ItemInput | ItemInput[], options: EncodeOptions = {}): Promise<EncodedItem | EncodedItem[]> {
    const list = Array.isArray(items) ? items : [items];
    const params = {
      output_types: options.outputTypes,
      instruction: options.instruction,
      output_dtype: options.outputDtype,
      options: options.isQuery === undefined ? undefined : { is_query: options.isQuery },
    };
    const response = await this.request<RawEncodeResponse>('POST', `/v1/encode/${encodeURIComponent(model)}`, { items: list.map(toItem), params });
    const decoded = response.items.map((item): EncodedItem => ({
      ...(item.id !== undefined ? { id: item.id } : {}),
      ...(item.metadata ? { metadata: item.metadata } : {}),
      ...(item.dense ? { dense: item.dense.values } : {}),
      ...(item.sparse ? { sparse: { indices: item.sparse.indices, values: item.sparse.values, dims: item.sparse.dims } } : {}),
      ...(item.multivector ? { multivector: item.multivector.values } : {}),
    }));
    return Array.isArray(items) ? decoded : decoded[0];
  }

  async score(model: string, query: ItemInput, items: ItemInput[]): Promise<ScoreResponse> {
    return this.request<ScoreResponse>('POST', `/v1/score/${encodeURIComponent(model)}`, { query: toItem(query), items: items.map(toItem) });
  }

  async extract(model: string, items: ItemInput, options?: ExtractOptions): Promise<ExtractedItem>;
  async extract(model: string, items: ItemInput[], options?: ExtractOptions): Promise<ExtractedItem[]>;
  async extract(model: string, items: ItemInput | ItemInput[], options: ExtractOptions = {}): Promise<ExtractedItem | ExtractedItem[]> {
    const list = Array.isArray(items) ? items : [items];
    const response = await this.request<{ items: ExtractedItem[] }>('POST', `/v1/extract/${encodeURIComponent(model)}`, { items: list.map(toItem), params: { labels: options.labels } });
    return Array.isArray(items) ? response.items : response.items[0];
  }

  async listModels(): Promise<ModelInfo[]> {
    return (await this.request<{ models: ModelInfo[] }>('GET', '/v1/models')).models;
  }

  async getModel(name: string): Promise<ModelInfo> {
    return this.request<ModelInfo>('GET', `/v1/models/${encodeURIComponent(name)}`);
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
    const probe = async (route: string) => {
      try {
        await this.request('GET', route);
        return true;
      } catch {
        return false;
      }
    };
    return { healthy: await probe('/healthz'), ready: await probe('/readyz') };
  }

  /** Aborts requests in flight; later calls fail. */
  close(): void {
    this.closed = true;
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
  }

  private async request<T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> {
    const retries = this.options.maxRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(method, route, body);
      } catch (error) {
        if (!(error instanceof SIEError) || error.status !== 503 || error.retryAfterMs === undefined || attempt >= retries) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(error.retryAfterMs!, this.options.maxRetryDelayMs ?? 30000)));
      }
    }
  }

  private async once<T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> {
    if (this.closed) throw new SIEError(0, 'CLIENT_CLOSED', 'the client has been closed');
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timer = this.options.timeoutMs ? setTimeout(() => controller.abort(), this.options.timeoutMs) : undefined;
    try {
      const headers: Record<string, string> = { accept: 'application/msgpack' };
      if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
      let payload: ArrayBuffer | undefined;
      if (body !== undefined) {
        headers['content-type'] = 'application/msgpack';
        const packed = encode(body, { ignoreUndefined: true });
        payload = packed.slice().buffer as ArrayBuffer;
      }
      let response: Response;
      try {
        response = await fetch(`${this.baseUrl}${route}`, { method, headers, body: payload, signal: controller.signal });
      } catch (error) {
        const aborted = controller.signal.aborted;
        throw new SIEError(0, aborted ? (this.closed ? 'CLIENT_CLOSED' : 'TIMEOUT') : 'CONNECTION_FAILED', aborted ? `request to ${route} was aborted` : `cannot reach ${this.baseUrl}: ${(error as Error).message}`);
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      const type = response.headers.get('content-type') ?? '';
      const data: unknown = bytes.length === 0 ? null : type.includes('msgpack') ? decodeSieMsgpack(bytes) : JSON.parse(new TextDecoder().decode(bytes));
      if (!response.ok) throw errorFrom(response, data);
      return data as T;
    } finally {
      if (timer) clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }
}

function toItem(item: ItemInput): Item {
  return typeof item === 'string' ? { text: item } : item;
}

/** Reads SIE's `detail`, OpenAI's `error` or a top-level code, whichever the server sent. */
function errorFrom(response: Response, data: unknown): SIEError {
  const body = (data ?? {}) as { detail?: { code?: string; message?: string } | string; error?: { code?: string; message?: string }; code?: string; message?: string };
  const detail = typeof body.detail === 'object' ? body.detail : undefined;
  const code = detail?.code ?? body.error?.code ?? body.code ?? `HTTP_${response.status}`;
  const message = detail?.message ?? body.error?.message ?? body.message ?? (typeof body.detail === 'string' ? body.detail : `HTTP ${response.status}`);
  const retryAfter = response.headers.get('retry-after');
  const seconds = retryAfter === null ? NaN : Number(retryAfter);
  return new SIEError(response.status, code, message, Number.isFinite(seconds) ? seconds * 1000 : undefined);
}
