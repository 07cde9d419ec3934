/**
 * The models of one process: loaded on first use (concurrent first requests share one load),
 * accounted in bytes against a memory budget, and evicted least-recently-used when a load needs
 * room. A model with requests in flight is never evicted, nor is a pinned one. A failed load is
 * remembered with its attempts; transient failures are retried with exponential backoff,
 * permanent ones (bad weights or config) are not. Unloading or evicting a model removes it from
 * the catalogue at once, but its native memory is freed on the last lease's release, so requests
 * already holding it (queued or running) finish normally. This is the only mutable state of the
 * engine.
 */
import { EngineError, type LoadFailure } from '../../errors/engine-error.js';
import { PERMANENT_LOAD_FAILURES as PERMANENT } from '../../errors/error-codes.js';
import type { LoadedModel } from '../loaded-model.js';

export type ModelState = 'loading' | 'loaded' | 'unloading' | 'failed';

export interface RegistryOptions {
  /** Most bytes of loaded models (weights + workspace); Infinity for no limit. */
  budgetBytes: number;
  /** How long a request waits for a model to load, or for room to load it, before a 503. */
  loadWaitMs: number;
  /** First retry delay of a transient load failure; doubles per attempt up to a minute. */
  retryBaseMs: number;
}

export interface RegistryObserver {
  onLoad?(id: string, ms: number): void;
  onLoadFailure?(id: string, code: string): void;
  onEvict?(id: string): void;
  onMemory?(usedBytes: number, budgetBytes: number): void;
}

/** How to load one model: find its files and estimate its size, then load it. */
export interface ModelLoader {
  /** Resolves (and downloads) the model; returns its expected size in bytes. */
  prepare(): Promise<number>;
  load(): Promise<LoadedModel>;
}

export type LoadError = LoadFailure;

export interface RegistryEntryStatus {
  id: string;
  state: ModelState;
  model?: LoadedModel;
  error?: LoadError;
  pinned: boolean;
  inFlight: number;
  bytes: number;
}

interface Entry {
  id: string;
  state: ModelState;
  loading?: Promise<LoadedModel>;
  model?: LoadedModel;
  error?: EngineError;
  attempts: number;
  retryAt: number;
  pinned: boolean;
  inFlight: number;
  lastUsed: number;
  bytes: number;
}

export interface Lease {
  model: LoadedModel;
  release(): void;
}

export class ModelRegistry {
  private readonly entries = new Map<string, Entry>();
  private releaseWaiters: Array<() => void> = [];
  private memoryReportPending = false;

  constructor(private readonly options: RegistryOptions, private readonly observer: RegistryObserver = {}) {}

  get budgetBytes(): number {
    return this.options.budgetBytes;
  }

  usedBytes(except?: Entry): number {
    let total = 0;
    for (const entry of this.entries.values()) if (entry !== except && (entry.state === 'loaded' || entry.state === 'loading')) total += entry.bytes;
    return total;
  }

  /** The entry for an id: exact, or the short name of one `org/name` model. */
  find(id: string): Entry | undefined {
    const exact = this.entries.get(id);
    if (exact) return exact;
    const matches = [...this.entries.values()].filter((e) => e.id.split('/').pop() === id);
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** Takes a model for one request, loading it first if needed; release() when done. */
  async acquire(id: string, loader: () => ModelLoader, options: { pin?: boolean; loadWaitMs?: number } = {}): Promise<Lease> {
    let entry = this.find(id);
    if (entry?.state === 'failed') {
      const error = entry.error!;
      if (PERMANENT.has(error.code) || performance.now() < entry.retryAt) throw this.failure(entry);
    }
    if (!entry || entry.state === 'failed' || entry.state === 'unloading') entry = this.startLoad(id, loader, entry);
    if (options.pin) entry.pinned = true;
    // Counted from now, so a model unloaded while this request waits for its load is kept for it.
    entry.inFlight++;
    let model: LoadedModel;
    try {
      model = entry.model ?? (await this.waitForLoad(entry, Math.min(options.loadWaitMs ?? Infinity, this.options.loadWaitMs)));
    } catch (error) {
      this.release(entry);
      throw error;
    }
    entry.lastUsed = performance.now();
    let released = false;
    return {
      model,
      release: () => {
        if (released) return;
        released = true;
        this.release(entry!);
      },
    };
  }

  list(): RegistryEntryStatus[] {
    return [...this.entries.values()].map((e) => this.statusOf(e));
  }

  status(id: string): RegistryEntryStatus | undefined {
    const entry = this.find(id);
    return entry ? this.statusOf(entry) : undefined;
  }

  /** Unloads a model: gone from the catalogue now, disposed when its last request releases it. */
  unload(id: string): boolean {
    const entry = this.find(id);
    if (!entry) return false;
    this.entries.delete(entry.id);
    entry.state = 'unloading';
    this.disposeIfIdle(entry);
    this.reportMemory();
    return true;
  }

  /** Models unloaded or evicted whose last requests are still running. */
  get draining(): number {
    return this.unloadingEntries.size;
  }

  private readonly unloadingEntries = new Set<Entry>();

  private disposeIfIdle(entry: Entry): void {
    if (entry.state !== 'unloading') return;
    if (entry.inFlight > 0) {
      this.unloadingEntries.add(entry);
      return;
    }
    this.unloadingEntries.delete(entry);
    entry.model?.dispose();
    entry.model = undefined;
  }

  clear(): void {
    for (const id of [...this.entries.keys()]) this.unload(id);
  }

  private statusOf(e: Entry): RegistryEntryStatus {
    return { id: e.id, state: e.state, model: e.model, error: e.error ? this.loadError(e) : undefined, pinned: e.pinned, inFlight: e.inFlight, bytes: e.bytes };
  }

  private loadError(entry: Entry): LoadError {
    return { code: entry.error!.code, message: entry.error!.message, attempts: entry.attempts, permanent: PERMANENT.has(entry.error!.code) };
  }

  private failure(entry: Entry): EngineError {
    const info = this.loadError(entry);
    return new EngineError(entry.error!.code, `model ${entry.id} failed to load (attempt ${info.attempts}${info.permanent ? ', permanent' : ', will retry'}): ${info.message}`, { cause: entry.error, param: 'model', loadFailure: info });
  }

  private startLoad(id: string, makeLoader: () => ModelLoader, previous?: Entry): Entry {
    const entry: Entry = previous ?? { id, state: 'loading', attempts: 0, retryAt: 0, pinned: false, inFlight: 0, lastUsed: performance.now(), bytes: 0 };
    entry.state = 'loading';
    entry.error = undefined;
    entry.model = undefined;
    this.entries.set(id, entry);
    const started = performance.now();
    entry.loading = (async () => {
      const loader = makeLoader();
      entry.bytes = await loader.prepare();
      await this.makeRoom(entry);
      return loader.load();
    })();
    entry.loading.then((model) => {
      entry.model = model;
      if (this.entries.get(id) !== entry) {
        // Unloaded while it loaded: serve the requests that waited for it, then free it.
        entry.state = 'unloading';
        this.disposeIfIdle(entry);
        return;
      }
      entry.state = 'loaded';
      entry.attempts = 0;
      entry.bytes = model.memoryBytes();
      this.observer.onLoad?.(id, performance.now() - started);
      this.reportMemory();
    }, (error: unknown) => {
      const failure = EngineError.from(error, 'MODEL_LOAD_FAILED');
      if (failure.code === 'MODEL_NOT_FOUND' || failure.code === 'OVERLOADED') {
        // Nothing to remember: the model does not exist, or there was no room this time.
        if (this.entries.get(id) === entry) this.entries.delete(id);
        this.notifyReleased();
        return;
      }
      entry.state = 'failed';
      entry.error = failure;
      entry.attempts++;
      entry.bytes = 0;
      entry.retryAt = performance.now() + Math.min(60000, this.options.retryBaseMs * 2 ** (entry.attempts - 1));
      this.observer.onLoadFailure?.(id, failure.code);
      this.reportMemory();
      this.notifyReleased();
    });
    return entry;
  }

  private async waitForLoad(entry: Entry, waitMs: number): Promise<LoadedModel> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EngineError('MODEL_LOADING', `model ${entry.id} is loading; retry shortly`)), waitMs);
    });
    try {
      return await Promise.race([entry.loading!, timeout]);
    } catch (error) {
      const failure = EngineError.from(error, 'MODEL_LOAD_FAILED');
      if (failure.code === 'MODEL_NOT_FOUND' || failure.code === 'MODEL_LOADING' || failure.code === 'OVERLOADED') throw failure;
      throw entry.state === 'failed' ? this.failure(entry) : failure;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Evicts idle, unpinned models, least recently used first, until `entry` fits the budget. */
  private async makeRoom(entry: Entry): Promise<void> {
    const budget = this.options.budgetBytes;
    if (entry.bytes > budget) {
      throw new EngineError('MODEL_CAPACITY', `model ${entry.id} needs ${entry.bytes} bytes, more than the whole memory budget of ${budget}`);
    }
    const deadline = performance.now() + this.options.loadWaitMs;
    while (this.usedBytes(entry) + entry.bytes > budget) {
      const victim = [...this.entries.values()]
        .filter((e) => e !== entry && e.state === 'loaded' && e.inFlight === 0 && !e.pinned)
        .sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (victim) {
        this.unload(victim.id);
        this.observer.onEvict?.(victim.id);
        continue;
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new EngineError('OVERLOADED', `no room for model ${entry.id}: every loaded model is busy or pinned; retry shortly`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.releaseWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private release(entry: Entry): void {
    entry.inFlight--;
    entry.lastUsed = performance.now();
    this.disposeIfIdle(entry);
    if (entry.model && entry.state === 'loaded') entry.bytes = entry.model.memoryBytes();
    if (entry.inFlight === 0) this.notifyReleased();
    this.reportMemory();
  }

  private notifyReleased(): void {
    const waiters = this.releaseWaiters;
    this.releaseWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Memory changes within one turn of the event loop reach the observer once, as they stand then:
   * every request's release changes it (the workspace grows with batches), and the release runs
   * between a forward pass and its answer.
   */
  private reportMemory(): void {
    if (!this.observer.onMemory || this.memoryReportPending) return;
    this.memoryReportPending = true;
    setImmediate(() => {
      this.memoryReportPending = false;
      this.observer.onMemory?.(this.usedBytes(), this.options.budgetBytes);
    });
  }
}
