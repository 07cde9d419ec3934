/**
 * The in-process engine: the same encode the HTTP server offers, without HTTP.
 *
 *   const engine = new Engine({ modelsDir: './models' });
 *   await engine.load('sentence-transformers/all-MiniLM-L6-v2');
 *   const { embeddings } = await engine.embed('sentence-transformers/all-MiniLM-L6-v2', ['hello']);
 *
 * Models are kept in a registry keyed by id; concurrent first requests share one load, and a
 * failed load is remembered (and reported) without affecting other models.
 */
import os from 'node:os';
import path from 'node:path';
import { readModelSpec } from '../models/model-config.js';
import { isSafeModelId } from '../models/model-id.js';
import { resolveModel, resolverOptionsFromEnv, type ResolverOptions } from '../models/model-resolver.js';
import { LoadedModel, type EmbedOptions, type EmbedResult, type EmbeddingInput, type ModelDescription } from './loaded-model.js';
import { EngineError } from './engine-error.js';
import { nativeAddon, type NativeComputePool } from './native-addon.js';

export interface EngineOptions {
  /** Compute threads; default: all cores. */
  threads?: number;
  /** Folders searched for `<org>/<name>` or `<name>` model directories (SIE_MODELS_DIR). */
  modelsDir?: string | string[];
  /** Most tokens in one native forward; larger requests are split. */
  maxBatchTokens?: number;
  /** Environment for HF_HOME, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Download progress output (default stderr; null for silence). */
  progress?: NodeJS.WritableStream | null;
}

export interface LoadOptions {
  /** Directory paths are accepted only from trusted callers (default true; HTTP passes false). */
  trusted?: boolean;
  /** Download from the hub when not found locally (default true for trusted callers). */
  allowDownload?: boolean;
}

export type ModelState = 'loading' | 'loaded' | 'failed';

export interface ModelStatus {
  id: string;
  state: ModelState;
  model?: ModelDescription;
  error?: { code: string; message: string };
}

interface RegistryEntry {
  state: ModelState;
  ready: Promise<LoadedModel>;
  model?: LoadedModel;
  error?: EngineError;
}

export class Engine {
  private readonly pool: NativeComputePool;
  private readonly resolver: ResolverOptions;
  private readonly maxBatchTokens: number;
  private readonly registry = new Map<string, RegistryEntry>();

  constructor(options: EngineOptions = {}) {
    const threads = options.threads ?? os.availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new EngineError('INVALID_ARGUMENT', 'threads must be a positive integer');
    this.pool = new (nativeAddon().ComputePool)(threads);
    const env = options.env ?? process.env;
    const dirs = options.modelsDir ?? env.SIE_MODELS_DIR?.split(path.delimiter).filter(Boolean) ?? [];
    this.resolver = { ...resolverOptionsFromEnv(env, Array.isArray(dirs) ? dirs : [dirs]), progress: options.progress };
    this.maxBatchTokens = options.maxBatchTokens ?? 16384;
  }

  get threads(): number {
    return this.pool.threads;
  }

  /** Loads a model (or returns the one already loaded or loading under that id). */
  async load(id: string, options: LoadOptions = {}): Promise<ModelDescription> {
    return (await this.model(id, options)).describe();
  }

  /** The loaded model for an id, loading it first if needed. */
  async model(requested: string, options: LoadOptions = {}): Promise<LoadedModel> {
    const id = servedName(requested);
    const existing = this.lookup(id);
    if (existing) {
      if (existing.state === 'failed') throw existing.error!;
      return existing.ready;
    }
    const trusted = options.trusted ?? true;
    const entry: RegistryEntry = { state: 'loading', ready: Promise.resolve(undefined as never) };
    entry.ready = (async () => {
      const directory = await resolveModel(requested, this.resolver, { allowPaths: trusted, allowDownload: options.allowDownload ?? trusted });
      const spec = readModelSpec(directory);
      return LoadedModel.load(id, spec, nativeAddon(), this.pool, this.maxBatchTokens);
    })();
    this.registry.set(id, entry);
    try {
      entry.model = await entry.ready;
      entry.state = 'loaded';
      return entry.model;
    } catch (error) {
      const failure = EngineError.from(error, 'MODEL_LOAD_FAILED');
      if (failure.code === 'MODEL_NOT_FOUND') {
        this.registry.delete(id);  // nothing to report about a model that does not exist
      } else {
        entry.state = 'failed';
        entry.error = failure;
        entry.ready.catch(() => undefined);
      }
      throw failure;
    }
  }

  async embed(id: string, inputs: ReadonlyArray<EmbeddingInput>, options: EmbedOptions & LoadOptions = {}): Promise<EmbedResult> {
    const model = await this.model(id, options);
    return model.embed(inputs, options);
  }

  /** Every model the engine knows of, loaded, loading or failed. */
  list(): ModelStatus[] {
    return [...this.registry.entries()].map(([id, entry]) => ({
      id,
      state: entry.state,
      model: entry.model?.describe(),
      error: entry.error ? { code: entry.error.code, message: entry.error.message } : undefined,
    }));
  }

  /** One model's registry entry, by id or short name. */
  status(id: string): ModelStatus | undefined {
    const entry = this.lookup(servedName(id));
    if (!entry) return undefined;
    const key = [...this.registry.entries()].find(([, value]) => value === entry)![0];
    return { id: key, state: entry.state, model: entry.model?.describe(), error: entry.error ? { code: entry.error.code, message: entry.error.message } : undefined };
  }

  /** Forgets a model (a failed one may then be loaded again); its memory goes once in-flight work ends. */
  unload(id: string): boolean {
    const entry = this.lookup(servedName(id));
    if (!entry) return false;
    entry.model?.dispose();
    for (const [key, value] of this.registry) if (value === entry) this.registry.delete(key);
    return true;
  }

  close(): void {
    for (const id of [...this.registry.keys()]) this.unload(id);
  }

  /** Exact id, or the short name of a loaded `org/name` model when exactly one matches. */
  private lookup(id: string): RegistryEntry | undefined {
    const exact = this.registry.get(id);
    if (exact) return exact;
    const matches = [...this.registry.entries()].filter(([key]) => key.split('/').pop() === id);
    return matches.length === 1 ? matches[0][1] : undefined;
  }
}

/** The id a model is served under: itself for hub-style ids, the folder name for a directory path. */
export function servedName(id: string): string {
  return isSafeModelId(id) ? id : path.basename(path.resolve(id));
}
