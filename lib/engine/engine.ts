/**
 * The in-process engine: the same encode the HTTP server offers, without HTTP.
 *
 *   const engine = new Engine({ modelsDir: './models' });
 *   const { embeddings } = await engine.embed('sentence-transformers/all-MiniLM-L6-v2', ['hello']);
 *
 * Models live in a ModelRegistry (loaded on first use, LRU-evicted under a memory budget) and
 * run through one BatchScheduler (requests merged into token-budget batches, models served
 * round-robin) on one native backend (CPU today). Which family a model belongs to is the
 * family registry's business (lib/families); the engine never branches on it.
 */
import os from 'node:os';
import path from 'node:path';
import { nativeAddon, type Device, type NativeBackend, type WeightDtype } from '../bindings/native-addon.js';
import { EngineError } from '../errors/engine-error.js';
import { adapterFor, tasksOf, type ModelAdapter, type OutputType, type Task } from '../families/index.js';
import { estimatedLoadedBytes } from '../families/loaded-size.js';
import { isSafeModelId } from '../models/model-id.js';
import { listLocalModels, resolveModel, resolverOptionsFromEnv, type ResolverOptions } from '../models/model-resolver.js';
import type { FidelityVerdict } from './fidelity-gate.js';
import { defaultProfile, type ModelProfile, type ModelSettings } from './model-settings.js';
import { LoadedModel, type EmbedOptions, type EmbedResult, type EmbeddingInput, type ModelDescription } from './loaded-model.js';
import { ModelRegistry, type Lease, type LoadError, type ModelLoader, type ModelState, type RegistryObserver } from './registry/model-registry.js';
import { BatchScheduler, type SchedulerObserver } from './scheduling/batch-scheduler.js';
import { Tokenization, type TokenizationObserver } from './tokenization/tokenization.js';
import { TokenizationPool } from './tokenization/tokenization-pool.js';

export type { ModelState } from './registry/model-registry.js';
export type { Lease } from './registry/model-registry.js';

export interface EngineOptions {
  /** Compute threads; default: all cores. */
  threads?: number;
  /**
   * Weights of the matrix products: 'fp32' (default: the Python stack's numbers), 'bf16',
   * 'bf16x3' (fp32-grade products from three bf16 ones, on AMX CPUs), 'bf16x3q' (the same grade
   * with 2.5 bytes a weight: bf16 plus a 4-bit correction, AMX), or 'auto' (bf16 where the
   * CPU computes it natively). A fast model passes a fidelity gate at load or stays fp32.
   */
  dtype?: WeightDtype | 'auto';
  /** Where models run: 'cpu' (default), 'cuda[:N]', or 'auto' (a GPU when there is one, else the CPU). */
  device?: Device | 'auto';
  /** Folders searched for `<org>/<name>` or `<name>` model directories (SIE_MODELS_DIR). */
  modelsDir?: string | string[];
  /** Most tokens in one native forward; requests are merged up to it and split beyond it. */
  maxBatchTokens?: number;
  /** Per-model settings (a bundle): sources, preload and pin, profiles. */
  models?: ReadonlyArray<ModelSettings>;
  /** How long concurrent requests wait to be merged into one batch (ms). */
  batchWaitMs?: number;
  /**
   * A lone request of at most this many tokens, with nothing else queued or running, runs on the
   * event loop's thread instead of a worker's (default 64; 0: never), if the model's cost per
   * token (learnt from its batches) predicts a pass of at most 4 ms. It blocks the event loop for
   * that pass and saves two thread hand-offs.
   */
  inlineMaxTokens?: number;
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
  observer?: RegistryObserver & SchedulerObserver & TokenizationObserver & FidelityObserver;
}

export interface FidelityObserver {
  /** A fast dtype was tried at load: the dtype kept and the gate's verdict. */
  onFidelity?(model: string, dtype: WeightDtype, verdict: FidelityVerdict): void;
}

export interface LoadOptions {
  /** Directory paths are accepted only from trusted callers (default true; HTTP passes false). */
  trusted?: boolean;
  /** Download from the hub when not found locally (default true for trusted callers). */
  allowDownload?: boolean;
  /** Never evict this model. */
  pin?: boolean;
  /**
   * How long this request waits for a model that is not loaded yet before it fails with
   * MODEL_LOADING (retryable; the load goes on). Default: the engine's loadWaitMs.
   */
  loadWaitMs?: number;
}

/** What a model can do, read from its files (before it is loaded) or from the loaded model. */
export interface ModelCapabilities {
  family: string;
  tasks: Task[];
  outputs: OutputType[];
  dims: Partial<Record<OutputType, number>>;
  labels?: string[];
  maxSeqLength: number;
  dtype?: string;
}

export interface ModelStatus {
  id: string;
  /** 'available': servable from local files, not loaded. */
  state: ModelState | 'available';
  model?: ModelDescription;
  capabilities?: ModelCapabilities;
  error?: LoadError;
  pinned: boolean;
  inFlight: number;
  memoryBytes: number;
}

/**
 * A dense model's pooling and normalisation from a bundle profile; refused for other heads. CLIP
 * takes `normalize` alone (its projections, text and image; SIE's CLIP adapter has the same
 * load-time switch), since its pooling is fixed by the architecture.
 */
function withLoadProfile(adapter: ModelAdapter, profile: ModelProfile, id: string): ModelAdapter {
  if (profile.pooling === undefined && profile.normalize === undefined) return adapter;
  const head = adapter.description.head;
  if (head.kind === 'clip-text' && profile.pooling === undefined) {
    return { ...adapter, description: { ...adapter.description, head: { ...head, normalize: profile.normalize ?? head.normalize } } };
  }
  if (head.kind !== 'pooled') {
    throw new EngineError('BAD_CONFIG', `bundle: model ${id} (${adapter.family}) has no pooling to configure; pooling and normalize apply to dense pooled models (normalize alone also to CLIP)`);
  }
  return { ...adapter, description: { ...adapter.description, head: { ...head, pooling: profile.pooling ?? head.pooling, normalize: profile.normalize ?? head.normalize } } };
}

export class Engine {
  readonly threads: number;
  /** Why 'auto' chose the CPU, when it did (for the one log line the server prints). */
  readonly deviceNote: string | undefined;
  private readonly settings: Map<string, ModelSettings>;
  /** The weight dtype models are loaded in (before each model's fidelity gate). */
  readonly dtype: WeightDtype;
  private readonly backend: NativeBackend;
  private readonly observer: FidelityObserver;
  private readonly resolver: ResolverOptions;
  private readonly registry: ModelRegistry;
  private readonly scheduler: BatchScheduler;
  private readonly tokenizationPool: TokenizationPool;
  private readonly tokenization: Tokenization;
  /** Models that must be loaded for the engine to be ready, with their last outcome. */
  private readonly preloads = new Map<string, 'loading' | 'loaded' | 'failed'>();

  constructor(options: EngineOptions = {}) {
    const threads = options.threads ?? os.availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new EngineError('INVALID_ARGUMENT', 'threads must be a positive integer');
    this.threads = threads;
    [this.backend, this.deviceNote] = openBackend(options.device ?? 'cpu', threads, options.maxBatchTokens ?? 16384);
    this.dtype = chooseDtype(options.dtype ?? 'fp32', this.backend);
    this.settings = new Map((options.models ?? []).map((m) => [m.id, m]));
    this.observer = options.observer ?? {};
    const env = options.env ?? process.env;
    const dirs = options.modelsDir ?? env.SIE_MODELS_DIR?.split(path.delimiter).filter(Boolean) ?? [];
    this.resolver = { ...resolverOptionsFromEnv(env, Array.isArray(dirs) ? dirs : [dirs]), progress: options.progress };
    const maxBatchTokens = options.maxBatchTokens ?? 16384;
    this.scheduler = new BatchScheduler({
      maxBatchTokens,
      maxWaitMs: options.batchWaitMs ?? 1,
      maxQueuedTokensPerModel: options.maxQueuedTokensPerModel ?? maxBatchTokens * 16,
      inlineMaxTokens: options.inlineMaxTokens ?? 64,
    }, options.observer);
    this.tokenizationPool = new TokenizationPool(options.tokenizerThreads ?? 1);
    this.tokenization = new Tokenization(this.tokenizationPool, options.observer);
    this.registry = new ModelRegistry({
      budgetBytes: options.memoryBudgetBytes ?? Infinity,
      loadWaitMs: options.loadWaitMs ?? 60000,
      retryBaseMs: options.loadRetryBaseMs ?? 1000,
    }, options.observer);
  }

  /** The device models run on ('cpu', 'cuda:0'). */
  get device(): string {
    return this.backend.device;
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

  /** Runs fn with the model held: it cannot be evicted or freed until fn settles. */
  async withModel<T>(requested: string, options: LoadOptions, fn: (model: LoadedModel) => Promise<T>): Promise<T> {
    const lease = await this.acquire(requested, options);
    try {
      return await fn(lease.model);
    } finally {
      lease.release();
    }
  }

  /**
   * The model for an id (loading it if needed), held until release() is called: for in-process
   * callers that keep a model across calls. An unreleased lease keeps it from being evicted.
   */
  async acquire(requested: string, options: LoadOptions = {}): Promise<Lease> {
    const trusted = options.trusted ?? true;
    return this.registry.acquire(servedName(requested), () => this.loaderFor(requested, trusted, options.allowDownload ?? trusted), { pin: options.pin, loadWaitMs: options.loadWaitMs });
  }

  /**
   * Loads models the engine must have to be ready (the server's -m list). A failure is recorded
   * and reported by ready(); the other models keep loading.
   */
  async preload(ids: ReadonlyArray<string>, options: { pin?: (id: string) => boolean } = {}): Promise<Array<{ id: string; model?: ModelDescription; error?: EngineError }>> {
    for (const id of ids) this.preloads.set(servedName(id), 'loading');
    return Promise.all(ids.map(async (id) => {
      try {
        const model = await this.load(id, { pin: options.pin?.(id) ?? false });
        this.preloads.set(servedName(id), 'loaded');
        return { id, model };
      } catch (error) {
        this.preloads.set(servedName(id), 'failed');
        return { id, error: EngineError.from(error) };
      }
    }));
  }

  /** Ready when every preloaded model is loaded; otherwise the ones still loading or failed. */
  readiness(): { ready: boolean; loading: string[]; failed: string[] } {
    const loading: string[] = [];
    const failed: string[] = [];
    // A preloaded model evicted later under the memory budget stays ready: it reloads on use.
    for (const [id, state] of this.preloads) {
      if (state === 'loading') loading.push(id);
      if (state === 'failed') failed.push(id);
    }
    return { ready: loading.length === 0 && failed.length === 0, loading, failed };
  }

  async embed(id: string, inputs: ReadonlyArray<EmbeddingInput>, options: EmbedOptions & LoadOptions = {}): Promise<EmbedResult> {
    return this.withModel(id, options, (model) => model.embed(inputs, options));
  }

  /** Every model the engine knows of: loaded, loading or failed. */
  list(): ModelStatus[] {
    return this.registry.list().map(toStatus);
  }

  /**
   * Every model this engine can serve without a download: the registry's entries, then the
   * models found in the models directories and the HF cache ('available'), with what each can
   * do read from its files. Files no family understands are left out.
   */
  catalogue(): ModelStatus[] {
    const statuses = this.list();
    const known = new Set(statuses.map((s) => s.id));
    for (const [id, directory] of listLocalModels(this.resolver)) {
      if (known.has(id)) continue;
      const capabilities = this.capabilitiesOf(directory);
      if (capabilities) statuses.push({ id, state: 'available', capabilities, pinned: false, inFlight: 0, memoryBytes: 0 });
    }
    return statuses;
  }

  /** One catalogue entry by id (registry first, then local files). */
  async catalogueEntry(id: string): Promise<ModelStatus | undefined> {
    const known = this.status(id);
    if (known) return known;
    if (!isSafeModelId(id)) return undefined;
    try {
      const directory = await resolveModel(id, this.resolver, { allowPaths: false, allowDownload: false });
      const capabilities = this.capabilitiesOf(directory);
      return capabilities ? { id, state: 'available', capabilities, pinned: false, inFlight: 0, memoryBytes: 0 } : undefined;
    } catch {
      return undefined;
    }
  }

  private readonly capabilityCache = new Map<string, ModelCapabilities | undefined>();

  private capabilitiesOf(directory: string): ModelCapabilities | undefined {
    if (!this.capabilityCache.has(directory)) {
      let capabilities: ModelCapabilities | undefined;
      try {
        const adapter = adapterFor(directory);
        capabilities = { family: adapter.family, tasks: tasksOf(adapter), outputs: adapter.encoder?.outputs ?? [], dims: adapter.encoder?.dims ?? {}, labels: adapter.extractor?.labels, maxSeqLength: adapter.maxSeqLength };
      } catch {
        capabilities = undefined;  // not a model any family serves
      }
      this.capabilityCache.set(directory, capabilities);
    }
    return this.capabilityCache.get(directory);
  }

  /** One model's status, by id or short name. */
  status(id: string): ModelStatus | undefined {
    const entry = this.registry.status(servedName(id));
    return entry ? toStatus(entry) : undefined;
  }

  /** Unloads a model: new requests load it afresh; requests holding it finish first. */
  unload(id: string): boolean {
    return this.registry.unload(servedName(id));
  }

  /** Tokens waiting in the scheduler for a model. */
  queuedTokens(id: string): number {
    return this.scheduler.queuedTokens(id);
  }

  /** Models unloaded or evicted whose last requests still hold them. */
  get drainingModels(): number {
    return this.registry.draining;
  }

  /** Queued models in the scheduler (an empty queue is dropped at once). */
  get queuedModels(): number {
    return this.scheduler.queueCount;
  }

  /** Live tokenizer worker threads. */
  get tokenizerWorkers(): number {
    return this.tokenizationPool.workerCount;
  }

  close(): void {
    this.registry.clear();
    this.tokenizationPool.close();
  }

  /** The settings a bundle gives a model id, if any. */
  settingsOf(id: string): ModelSettings | undefined {
    return this.settings.get(servedName(id));
  }

  private loaderFor(requested: string, trusted: boolean, allowDownload: boolean): ModelLoader {
    const id = servedName(requested);
    const settings = this.settings.get(id);
    const profile = defaultProfile(settings);
    let directory: string | undefined;
    let adapter: ModelAdapter | undefined;
    return {
      prepare: async () => {
        // A source named by the operator's bundle is trusted: a path or a download is allowed.
        directory = await resolveModel(settings?.source ?? requested, this.resolver, { allowPaths: trusted || settings !== undefined, allowDownload: allowDownload || settings !== undefined });
        adapter = withLoadProfile(adapterFor(directory), profile, id);
        return estimatedLoadedBytes(adapter.weightFiles);
      },
      load: async () => {
        const model = await LoadedModel.load(id, directory!, adapter!, {
          dtype: profile.dtype ? chooseDtype(profile.dtype, this.backend) : this.dtype,
          loadNative: (dtype, options) => this.backend.loadModel({ ...adapter!.description, dtype, ...options }),
          settings,
        }, this.scheduler, this.tokenization);
        if (model.fidelity) this.observer.onFidelity?.(id, model.dtype, model.fidelity);
        return model;
      },
    };
  }
}

function chooseDtype(wanted: WeightDtype | 'auto', backend: NativeBackend): WeightDtype {
  // auto: fp16 on a GPU (what sentence-transformers and TEI serve there), bf16 on a CPU that
  // computes it natively, else fp32.
  if (wanted === 'auto') return backend.dtypes.includes('fp16') ? 'fp16' : backend.dtypes.includes('bf16') ? 'bf16' : 'fp32';
  if (!backend.dtypes.includes(wanted)) {
    throw new EngineError('DEVICE_UNAVAILABLE', `dtype '${wanted}' is not computed natively on this ${backend.device} (it has: ${backend.dtypes.join(', ')}); use --dtype auto or fp32`);
  }
  return wanted;
}

/** The backend for a device; 'auto' tries CUDA and falls back to the CPU, saying why. */
function openBackend(device: Device | 'auto', threads: number, workspaceTokens: number): [NativeBackend, string | undefined] {
  try {
    if (device === 'cpu') return [nativeAddon('cpu').openBackend({ device, threads }), undefined];
    if (device !== 'auto') return [nativeAddon('cuda').openBackend({ device, threads, workspaceTokens }), undefined];
    try {
      return [nativeAddon('cuda').openBackend({ device: 'cuda', threads, workspaceTokens }), undefined];
    } catch (error) {
      const reason = EngineError.from(error);
      if (reason.code !== 'DEVICE_UNAVAILABLE') throw reason;
      return [nativeAddon('cpu').openBackend({ device: 'cpu', threads }), `device auto: running on the CPU (${reason.message})`];
    }
  } catch (error) {
    throw EngineError.from(error);
  }
}

function toStatus(entry: ReturnType<ModelRegistry['list']>[number]): ModelStatus {
  const model = entry.model?.describe();
  return {
    id: entry.id,
    state: entry.state,
    model,
    capabilities: model,
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

