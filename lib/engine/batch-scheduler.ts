/**
 * Merges requests from many clients into native batches bounded by a token budget.
 *
 * One batch runs at a time (the compute pool uses every core); requests that arrive meanwhile
 * queue per model and go out together in the next batch. Models take turns round-robin, so one
 * model's flood cannot starve another. Queues are bounded in tokens: past the bound a request
 * is refused with OVERLOADED rather than growing memory. A request whose client went away
 * (its AbortSignal fired) is dropped while still queued. When requests arrive close together
 * the scheduler waits up to `maxWaitMs` for more before dispatching; an isolated request goes
 * out at once.
 */
import { EngineError } from './engine-error.js';
import type { NativeComputePool, NativeModel, NativeRunOutput } from './native-addon.js';
import type { TokenBatch } from './text-tokenizer.js';

export interface SchedulerOptions {
  maxBatchTokens: number;
  maxWaitMs: number;
  /** Most tokens waiting per model before new requests are refused. */
  maxQueuedTokensPerModel: number;
}

/** What the scheduler needs of a model. */
export interface SchedulableModel {
  readonly id: string;
  readonly native: NativeModel;
  /** Per-token heads return one row per token, the others one row (or sparse row) per sequence. */
  readonly perTokenOutput: boolean;
}

/** One sequence's slice of a native result. */
export interface SequenceOutput {
  values: Float32Array;
  indices?: Int32Array;
  rows: number;
}

export interface BatchStats {
  model: string;
  tokens: number;
  sequences: number;
  requests: number;
  queueMs: number[];
  inferenceMs: number;
}

export interface SchedulerObserver {
  onBatch?(stats: BatchStats): void;
  onQueueDepth?(model: string, tokens: number): void;
}

interface Job {
  model: SchedulableModel;
  batch: TokenBatch;
  tokens: number;
  enqueuedAt: number;
  signal?: AbortSignal;
  resolve: (outputs: SequenceOutput[]) => void;
  reject: (error: unknown) => void;
}

interface ModelQueue {
  model: SchedulableModel;
  jobs: Job[];
  tokens: number;
}

export class BatchScheduler {
  private readonly queues = new Map<string, ModelQueue>();
  private readonly order: string[] = [];
  private next = 0;
  private running = false;
  private waitTimer: NodeJS.Timeout | undefined;
  private lastSubmitAt = -Infinity;

  constructor(private readonly pool: NativeComputePool, private readonly options: SchedulerOptions, private readonly observer: SchedulerObserver = {}) {}

  /** Runs a batch of sequences for a model; large batches are split under the token budget. */
  async run(model: SchedulableModel, batch: TokenBatch, signal?: AbortSignal): Promise<SequenceOutput[]> {
    const queued = this.queuedTokens(model.id);
    if (queued > 0 && queued + batch.ids.length > this.options.maxQueuedTokensPerModel) {
      throw new EngineError('OVERLOADED', `model ${model.id} has ${queued} tokens queued; try again shortly`);
    }
    const parts = splitByTokenBudget(batch.offsets, this.options.maxBatchTokens).map(([begin, end]) => this.submit(model, sliceBatch(batch, begin, end), signal));
    return (await Promise.all(parts)).flat();
  }

  /** Tokens queued for a model (for metrics and tests). */
  queuedTokens(modelId: string): number {
    return this.queues.get(modelId)?.tokens ?? 0;
  }

  private submit(model: SchedulableModel, batch: TokenBatch, signal?: AbortSignal): Promise<SequenceOutput[]> {
    if (signal?.aborted) return Promise.reject(new EngineError('INVALID_INPUT', 'the request was cancelled'));
    const queue = this.queueFor(model);
    const tokens = batch.ids.length;
    return new Promise<SequenceOutput[]>((resolve, reject) => {
      const job: Job = { model, batch, tokens, enqueuedAt: performance.now(), signal, resolve, reject };
      queue.jobs.push(job);
      queue.tokens += tokens;
      this.observer.onQueueDepth?.(model.id, queue.tokens);
      signal?.addEventListener('abort', () => this.drop(queue, job), { once: true });
      const now = performance.now();
      const burst = now - this.lastSubmitAt < this.options.maxWaitMs;
      this.lastSubmitAt = now;
      if (burst && !this.running && queue.tokens < this.options.maxBatchTokens) this.pumpAfterWait();
      else this.pump();
    });
  }

  private queueFor(model: SchedulableModel): ModelQueue {
    let queue = this.queues.get(model.id);
    if (!queue || queue.model !== model) {
      queue = { model, jobs: queue?.jobs ?? [], tokens: queue?.tokens ?? 0 };
      if (!this.queues.has(model.id)) this.order.push(model.id);
      this.queues.set(model.id, queue);
    }
    return queue;
  }

  private drop(queue: ModelQueue, job: Job): void {
    const at = queue.jobs.indexOf(job);
    if (at < 0) return;  // already dispatched: its result is simply not used
    queue.jobs.splice(at, 1);
    queue.tokens -= job.tokens;
    job.reject(new EngineError('INVALID_INPUT', 'the request was cancelled'));
  }

  private pumpAfterWait(): void {
    if (this.waitTimer) return;
    this.waitTimer = setTimeout(() => {
      this.waitTimer = undefined;
      this.pump();
    }, this.options.maxWaitMs);
  }

  /** Round-robin: the next model after the last one served that has work. */
  private pickQueue(): ModelQueue | undefined {
    for (let i = 0; i < this.order.length; i++) {
      const id = this.order[(this.next + i) % this.order.length];
      const queue = this.queues.get(id);
      if (queue && queue.jobs.length > 0) {
        this.next = (this.next + i + 1) % this.order.length;
        return queue;
      }
    }
    return undefined;
  }

  private pump(): void {
    if (this.running) return;
    if (this.waitTimer) {
      clearTimeout(this.waitTimer);
      this.waitTimer = undefined;
    }
    const queue = this.pickQueue();
    if (!queue) return;
    const jobs: Job[] = [];
    let tokens = 0;
    while (queue.jobs.length > 0 && (jobs.length === 0 || tokens + queue.jobs[0].tokens <= this.options.maxBatchTokens)) {
      const job = queue.jobs.shift()!;
      jobs.push(job);
      tokens += job.tokens;
    }
    queue.tokens -= tokens;
    this.observer.onQueueDepth?.(queue.model.id, queue.tokens);
    this.running = true;
    void this.execute(queue.model, jobs, tokens).finally(() => {
      this.running = false;
      this.pump();
    });
  }

  private async execute(model: SchedulableModel, jobs: Job[], tokens: number): Promise<void> {
    const started = performance.now();
    const merged = mergeBatches(jobs.map((j) => j.batch));
    try {
      const out = await model.native.run(this.pool, merged.ids, merged.typeIds, merged.offsets);
      const sequences = splitOutput(out, merged.offsets, model.perTokenOutput);
      let at = 0;
      for (const job of jobs) {
        const count = job.batch.offsets.length - 1;
        job.resolve(sequences.slice(at, at + count));
        at += count;
      }
    } catch (error) {
      for (const job of jobs) job.reject(error);
    }
    this.observer.onBatch?.({
      model: model.id,
      tokens,
      sequences: merged.offsets.length - 1,
      requests: jobs.length,
      queueMs: jobs.map((j) => started - j.enqueuedAt),
      inferenceMs: performance.now() - started,
    });
  }
}

/** Consecutive sequence ranges [begin, end) holding at most `budget` tokens each (at least one sequence). */
export function splitByTokenBudget(offsets: Int32Array, budget: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const count = offsets.length - 1;
  let begin = 0;
  for (let i = 1; i <= count; i++) {
    if (offsets[i] - offsets[begin] > budget && i - 1 > begin) {
      ranges.push([begin, i - 1]);
      begin = i - 1;
    }
  }
  if (count > begin) ranges.push([begin, count]);
  return ranges;
}

export function sliceBatch(batch: TokenBatch, begin: number, end: number): TokenBatch {
  const from = batch.offsets[begin];
  const to = batch.offsets[end];
  const offsets = batch.offsets.slice(begin, end + 1);
  for (let i = 0; i < offsets.length; i++) offsets[i] -= from;
  return { ids: batch.ids.subarray(from, to), typeIds: batch.typeIds.subarray(from, to), offsets };
}

export function mergeBatches(batches: TokenBatch[]): TokenBatch {
  if (batches.length === 1) return batches[0];
  const tokens = batches.reduce((n, b) => n + b.ids.length, 0);
  const sequences = batches.reduce((n, b) => n + b.offsets.length - 1, 0);
  const ids = new Int32Array(tokens);
  const typeIds = new Int32Array(tokens);
  const offsets = new Int32Array(sequences + 1);
  let tokenAt = 0, sequenceAt = 0;
  for (const b of batches) {
    ids.set(b.ids, tokenAt);
    typeIds.set(b.typeIds, tokenAt);
    for (let i = 1; i < b.offsets.length; i++) offsets[sequenceAt + i] = tokenAt + b.offsets[i];
    tokenAt += b.ids.length;
    sequenceAt += b.offsets.length - 1;
  }
  return { ids, typeIds, offsets };
}

export function splitOutput(out: NativeRunOutput, offsets: Int32Array, perToken: boolean): SequenceOutput[] {
  const result: SequenceOutput[] = [];
  for (let i = 0; i < offsets.length - 1; i++) {
    if (out.rowOffsets && out.indices) {
      const [a, b] = [out.rowOffsets[i], out.rowOffsets[i + 1]];
      result.push({ values: out.values.subarray(a, b), indices: out.indices.subarray(a, b), rows: 1 });
    } else if (perToken) {
      result.push({ values: out.values.subarray(offsets[i] * out.width, offsets[i + 1] * out.width), rows: offsets[i + 1] - offsets[i] });
    } else {
      result.push({ values: out.values.subarray(i * out.width, (i + 1) * out.width), rows: 1 });
    }
  }
  return result;
}
