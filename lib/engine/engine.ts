/**
 * The in-process engine: the same encode the HTTP server offers, without HTTP.
 *
 *   const engine = new Engine({ modelsDir: './models' });
 *   const { embeddings } = await engine.embed('sentence-transformers/all-MiniLM-L6-v2', ['hello']);
 *
 * Models live in a ModelRegistry (loaded on first use, LRU-evicted under a memory budget) and
 * run through one BatchScheduler (requests merged into token-budget batches, models served
 * round-robin) on one compute pool.
 */
import os from 'node:os';
import path from 'node:path';
import { readModelSpec, type ModelSpec } from '../models/model-config.js';
import { isSafeModelId } from '../models/model-id.js';
import { resolveModel, resolverOptionsFromEnv, type ResolverOptions } from '../models/model-resolver.js';
import { safetensorsFp32Bytes } from '../models/weights-size.js';
import { BatchScheduler, type SchedulerObserver } from './batch-scheduler.js';
import { EngineError } from './engine-error.js';
import { LoadedModel, type EmbedOptions, type EmbedResult, type EmbeddingInput, type ModelDescription } from './loaded-model.js';
import { ModelRegistry, type LoadError, type ModelLoader, type ModelState, type RegistryObserver } from './model-registry.js';
import { nativeAddon, type NativeComputePool } from './native-addon.js';
import { TokenizationPool } from './tokenization-pool.js';

export type { ModelState } from './model-registry.js';

export interface EngineOptions {
  /** Compute threads; default: all cores. */
  threads?: number;
  /** Folders searched for `<org>/<name>` or `<name>` model directories (SIE_MODELS_DIR). */
  modelsDir?: string | string[];
  /** Most tokens in one native forward; requests are merged up to it and split beyond it. */
  maxBatchTokens?: number;
  /** How long concurrent requests wait to be merged into one batch (ms). */
  batchWaitMs?: number;
  /** Most tokens queued per model before requests are refused with OVERLOADED. */
  maxQueuedTokensPerModel?: number;
  /** Memory budget for loaded models in bytes (default: no limit). */
  memoryBudgetBytes?: number;
  /** How long a request waits for its model to load (ms). */
  loadWaitMs?: number;
  /** First retry delay after a transient load failure (ms). */
  loadRetryBaseMs?: number;
  /** Environment for HF_HOME, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Download progress output (default stderr; null for silence). */
  progress?: NodeJS.WritableStream | null;
  /** Worker threads that tokenize large requests off the event loop (default 1). */
  tokenizerThreads?: number;
  /** Hooks for metrics. */
  observer?: RegistryObserver & SchedulerObserver;
}

export interface LoadOptions {
  /** Directory paths are accepted only from trusted callers (default true; HTTP passes false). */
  trusted?: boolean;
  /** Download from the hub when not found locally (default true for trusted callers). */
  allowDownload?: boolean;
  /** Never evict this model. */
  pin?: boolean;
}

export interface ModelStatus {
  id: string;
  state: ModelState;
  model?: ModelDescription;
  error?: LoadError;
  pinned: boolean;
  inFlight: number;
  memoryBytes: number;
}

export class Engine {
  private readonly pool: NativeComputePool;
  private readonly resolver: ResolverOptions;
  private readonly registry: ModelRegistry;
  private readonly scheduler: BatchScheduler;
  private readonly tokenization: TokenizationPool;

  constructor(options: EngineOptions = {}) {
    const threads = options.threads ?? os.availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new EngineError('INVALID_ARGUMENT', 'threads must be a positive integer');
    this.pool = new (nativeAddon().ComputePool)(threads);
    const env = options.env ?? process.env;
    const dirs = options.modelsDir ?? env.SIE_MODELS_DIR?.split(path.delimiter).filter(Boolean) ?? [];
    this.resolver = { ...resolverOptionsFromEnv(env, Array.isArray(dirs) ? dirs : [dirs]), progress: options.progress };
    const maxBatchTokens = options.maxBatchTokens ?? 16384;
    this.scheduler = new BatchScheduler(this.pool, {
      maxBatchTokens,
      maxWaitMs: options.batchWaitMs ?? 1,
      maxQueuedTokensPerModel: options.maxQueuedTokensPerModel ?? maxBatchTokens * 16,
    }, options.observer);
    this.tokenization = new TokenizationPool(options.tokenizerThreads ?? 1);
    this.registry = new ModelRegistry({
      budgetBytes: options.memoryBudgetBytes ?? Infinity,
      loadWaitMs: options.loadWaitMs ?? 60000,
      retryBaseMs: options.loadRetryBaseMs ?? 1000,
    }, options.observer);
  }

  get threads(): number {
    return this.pool.threads;
  }

  get memoryBudgetBytes(): number {
    return this.registry.budgetBytes;
  }

  usedMemoryBytes(): number {
    return this.registry.usedBytes();
  }

  /** Loads a model (or finds the one already loaded or loading under that id). */
  async load(id: string, options: LoadOptions = {}): Promise<ModelDescription> {
    return this.withModel(id, options, async (model) => model.describe());
  }

  /** Runs fn with the model held: it cannot be evicted until fn settles. */
  async withModel<T>(requested: string, options: LoadOptions, fn: (model: LoadedModel) => Promise<T>): Promise<T> {
    const trusted = options.trusted ?? true;
    const lease = await this.registry.acquire(servedName(requested), () => this.loaderFor(requested, trusted, options.allowDownload ?? trusted), { pin: options.pin });
    try {
      return await fn(lease.model);
    } finally {
      lease.release();
    }
  }

  /**
   * The loaded model for an id (loading it if needed), for in-process callers that manage its
   * lifetime themselves: under a memory budget it may be evicted once no request holds it.
   */
  async model(id: string, options: LoadOptions = {}): Promise<LoadedModel> {
    return this.withModel(id, options, async (model) => model);
  }

  async embed(id: string, inputs: ReadonlyArray<EmbeddingInput>, options: EmbedOptions & LoadOptions = {}): Promise<EmbedResult> {
    return this.withModel(id, options, (model) => model.embed(inputs, options));
  }

  /** Every model the engine knows of: loaded, loading or failed. */
  list(): ModelStatus[] {
    return this.registry.list().map(toStatus);
  }

  /** One model's status, by id or short name. */
  status(id: string): ModelStatus | undefined {
    const entry = this.registry.status(servedName(id));
    return entry ? toStatus(entry) : undefined;
  }

  /** Unloads a model; requests in flight finish first on their own reference. */
  unload(id: string): boolean {
    return this.registry.unload(servedName(id));
  }

  /** Tokens waiting in the scheduler for a model. */
  queuedTokens(id: string): number {
    return this.scheduler.queuedTokens(id);
  }

  close(): void {
    this.registry.clear();
    this.tokenization.close();
  }

  private loaderFor(requested: string, trusted: boolean, allowDownload: boolean): ModelLoader {
    const id = servedName(requested);
    let spec: ModelSpec | undefined;
    return {
      prepare: async () => {
        spec = readModelSpec(await resolveModel(requested, this.resolver, { allowPaths: trusted, allowDownload }));
        const projection = spec.head.kind === 'colbert' ? safetensorsFp32Bytes(spec.head.projectionPath) : 0;
        return safetensorsFp32Bytes(spec.weightsPath) + projection;
      },
      load: () => LoadedModel.load(id, spec!, nativeAddon(), this.pool, this.scheduler, this.tokenization),
    };
  }
}

function toStatus(entry: ReturnType<ModelRegistry['list']>[number]): ModelStatus {
  return {
    id: entry.id,
    state: entry.state,
    model: entry.model?.describe(),
    error: entry.error,
    pinned: entry.pinned,
    inFlight: entry.inFlight,
    memoryBytes: entry.bytes,
  };
}

/** The id a model is served under: itself for hub-style ids, the folder name for a directory path. */
export function servedName(id: string): string {
  return isSafeModelId(id) ? id : path.basename(path.resolve(id));
}

