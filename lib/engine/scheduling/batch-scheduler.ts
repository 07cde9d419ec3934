/**
 * Merges requests from many clients into native batches bounded by a token budget.
 *
 * As many batches run at once as the model's backend asks for (one on the CPU, whose forward
 * uses every core); requests that arrive meanwhile queue per model and go out together in the
 * next batch. A model's queue exists only while it has work, so an evicted model is not kept
 * alive by the scheduler. Models take turns round-robin, so one
 * model's flood cannot starve another. Queues are bounded in tokens: past the bound a request
 * is refused with OVERLOADED rather than growing memory. A request whose client went away
 * (its AbortSignal fired) is dropped while still queued. While requests overlap (one arrives
 * while another is still unanswered), a request that finds the backend idle waits up to
 * `maxWaitMs` for more before dispatching; otherwise a request goes out at once. A client that
 * sends each request after the answer to its last never overlaps itself, however fast it goes:
 * timed by arrivals alone, each of its requests waited the whole window (a 2-layer model's
 * 0.1 ms requests took 1.1 ms). A lone request of at most `inlineMaxTokens` tokens, when nothing
 * else is queued or running, runs on the event loop's own thread (NativeModel.runNow) instead of
 * a worker thread:
 * on a 2-vCPU VM the hand-off to a sleeping worker and the wake-up of the event loop after it
 * cost 0.2-0.3 ms of a 1.4-2 ms single-sentence request over HTTP. The decision waits for the end
 * of the event loop's current I/O phase (setImmediate), so requests that arrived together still
 * go out as one batch. It also needs the model's cost per token, learnt from its batches so far,
 * to predict at most INLINE_MAX_MS: a token limit alone let 64 tokens of a 24-layer model (bge-m3)
 * hold the event loop for a hundred milliseconds, health checks and all.
 *
 * Images (CLIP's vision tower) queue beside a model's text, in a queue of their own: each image
 * costs the vision tokens it runs (patches + the class token) against the same budget, requests'
 * images are merged into native batches of at most `MAX_IMAGES_PER_BATCH`, and the text and image
 * queues of a model take turns with every other queue, so a request of 64 images cannot hold a
 * model's text requests back for longer than one image batch.
 */
import { EngineError } from '../../errors/engine-error.js';
import type { NativeModel, NativeRunOutput } from '../../bindings/native-addon.js';
import type { OutputType, SequenceOutput } from '../../families/model-family.js';
import { mergeBatches, sliceBatch, splitByTokenBudget, splitOutput, type TokenBatch } from './token-batch.js';

/**
 * The longest forward pass (predicted) run on the event loop's thread. What it saves is fixed (two
 * thread hand-offs, 0.2-0.3 ms), what it costs grows with the pass: every other request, health
 * check and metrics scrape waits behind it.
 */
export const INLINE_MAX_MS = 4;

/** At most this many images per native call, whatever the budget (bounds activation memory). */
export const MAX_IMAGES_PER_BATCH = 32;

/** Preprocessed images for the vision tower: CHW planes of side x side pixels. */
export interface ImageWork {
  pixels: ReadonlyArray<Float32Array>;
  side: number;
  /** Vision tokens one image runs (its cost against the token budget). */
  tokensPerImage: number;
}

export interface SchedulerOptions {
  maxBatchTokens: number;
  maxWaitMs: number;
  /** Most tokens waiting per model before new requests are refused. */
  maxQueuedTokensPerModel: number;
  /** Largest lone request (tokens) run on the event loop's thread when the backend is idle; 0: never. */
  inlineMaxTokens?: number;
}

/** What the scheduler needs of a model. */
export interface SchedulableModel {
  readonly id: string;
  readonly native: NativeModel;
  /** Per-token heads return one row per token, the others one row (or sparse row) per sequence. */
  readonly perTokenOutput: boolean;
  /** Batches the backend wants in flight at once (the CPU: one). */
  readonly maxBatchesInFlight: number;
  /** This model's own token budget per batch (a bundle profile), below the scheduler's. */
  readonly maxBatchTokens?: number;
}

/** A request's outputs, in input order, with how long it waited and how long its batches ran. */
export interface ScheduledResult {
  outputs: SequenceOutput[];
  queueMs: number;
  inferenceMs: number;
}

export interface BatchStats {
  model: string;
  tokens: number;
  sequences: number;
  requests: number;
  queueMs: number[];
  inferenceMs: number;
}

export interface QueueDepth {
  tokens: number;
  items: number;
  requests: number;
}

/**
 * What the scheduler reports, for metrics. Calls come just after the event that caused them
 * (setImmediate), off the path of the answers: a lone request's answer went out 20-40 us later
 * while histograms and gauges were updated first.
 */
export interface SchedulerObserver {
  onBatch?(stats: BatchStats): void;
  /** What waits for a model now: tokens, sequences and requests (jobs). */
  onQueueDepth?(model: string, depth: QueueDepth): void;
}

interface JobResult {
  outputs: SequenceOutput[];
  queueMs: number;
  inferenceMs: number;
}

interface ImageJobResult {
  vectors: Float32Array[];
  queueMs: number;
  inferenceMs: number;
}

type QueueKind = 'tokens' | 'images';

interface ImageJob {
  images: ImageWork;
  tokens: number;
  enqueuedAt: number;
  signal?: AbortSignal;
  resolve: (result: ImageJobResult) => void;
  reject: (error: unknown) => void;
}

interface Job {
  batch: TokenBatch;
  /** What a multi-output model must compute for this job; undefined: everything. */
  outputs?: ReadonlyArray<OutputType>;
  tokens: number;
  enqueuedAt: number;
  signal?: AbortSignal;
  resolve: (result: JobResult) => void;
  reject: (error: unknown) => void;
}

interface ModelQueue {
  model: SchedulableModel;
  kind: QueueKind;
  jobs: Array<Job | ImageJob>;
  tokens: number;
}

const itemsOf = (job: Job | ImageJob) => ('batch' in job ? job.batch.offsets.length - 1 : job.images.pixels.length);

const cancelled = () => new EngineError('CANCELLED', 'the request was cancelled');

export class BatchScheduler {
  /** Queues with work, in round-robin order; a queue is removed as soon as it is empty. */
  private readonly queues: ModelQueue[] = [];
  private next = 0;
  private running = 0;
  private waitTimer: NodeJS.Timeout | undefined;
  private pumpImmediate: NodeJS.Immediate | undefined;
  /** Jobs submitted and not yet answered (resolved, failed or cancelled). */
  private outstanding = 0;
  /** When a job last arrived while another was outstanding: the sign of concurrent clients. */
  private lastOverlapAt = -Infinity;
  /** Models whose queue depth changed since the observer last heard. */
  private readonly depthChanged = new Set<string>();
  /** Each model's forward time per token (ms), a moving average over its text batches. */
  private readonly msPerToken = new WeakMap<SchedulableModel, number>();

  constructor(private readonly options: SchedulerOptions, private readonly observer: SchedulerObserver = {}) {}

  /**
   * Runs a batch of sequences for a model; large batches are split under the token budget.
   * `outputs` limits what a multi-output model computes (a merged batch computes the union).
   */
  async run(model: SchedulableModel, batch: TokenBatch, signal?: AbortSignal, outputs?: ReadonlyArray<OutputType>): Promise<ScheduledResult> {
    const queued = this.queuedTokens(model.id);
    if (queued > 0 && queued + batch.ids.length > this.options.maxQueuedTokensPerModel) {
      throw new EngineError('OVERLOADED', `model ${model.id} has ${queued} tokens queued; try again shortly`);
    }
    const parts = await Promise.all(splitByTokenBudget(batch.offsets, this.budgetOf(model)).map(([begin, end]) => this.submit(model, sliceBatch(batch, begin, end), signal, outputs)));
    return {
      outputs: parts.flatMap((p) => p.outputs),
      queueMs: Math.max(0, ...parts.map((p) => p.queueMs)),
      inferenceMs: parts.reduce((sum, p) => sum + p.inferenceMs, 0),
    };
  }

  private budgetOf(model: SchedulableModel): number {
    return Math.min(this.options.maxBatchTokens, model.maxBatchTokens ?? Infinity);
  }

  /**
   * Runs preprocessed images through a model's vision tower, in batches bounded by the token
   * budget (each image costs `tokensPerImage`) and MAX_IMAGES_PER_BATCH; one vector per image.
   */
  async runImages(model: SchedulableModel, images: ImageWork, signal?: AbortSignal): Promise<{ vectors: Float32Array[]; queueMs: number; inferenceMs: number }> {
    const queued = this.queuedTokens(model.id);
    const cost = images.pixels.length * images.tokensPerImage;
    if (queued > 0 && queued + cost > this.options.maxQueuedTokensPerModel) {
      throw new EngineError('OVERLOADED', `model ${model.id} has ${queued} tokens queued; try again shortly`);
    }
    const perBatch = Math.max(1, Math.min(MAX_IMAGES_PER_BATCH, Math.floor(this.budgetOf(model) / images.tokensPerImage)));
    const parts: Array<Promise<ImageJobResult>> = [];
    for (let first = 0; first < images.pixels.length; first += perBatch) {
      parts.push(this.submitImages(model, { ...images, pixels: images.pixels.slice(first, first + perBatch) }, signal));
    }
    const results = await Promise.all(parts);
    return {
      vectors: results.flatMap((r) => r.vectors),
      queueMs: Math.max(0, ...results.map((r) => r.queueMs)),
      inferenceMs: results.reduce((sum, r) => sum + r.inferenceMs, 0),
    };
  }

  /** Tokens queued for a model id (for metrics and tests). */
  queuedTokens(modelId: string): number {
    return this.queues.filter((q) => q.model.id === modelId).reduce((sum, q) => sum + q.tokens, 0);
  }

  /** Tokens, sequences and requests queued for a model id. */
  depthOf(modelId: string): QueueDepth {
    const queues = this.queues.filter((q) => q.model.id === modelId);
    return {
      tokens: queues.reduce((sum, q) => sum + q.tokens, 0),
      items: queues.reduce((sum, q) => sum + q.jobs.reduce((n, j) => n + itemsOf(j), 0), 0),
      requests: queues.reduce((sum, q) => sum + q.jobs.length, 0),
    };
  }

  /** Models with queued work (for tests: empty queues are dropped). */
  get queueCount(): number {
    return this.queues.length;
  }

  private submit(model: SchedulableModel, batch: TokenBatch, signal?: AbortSignal, outputs?: ReadonlyArray<OutputType>): Promise<JobResult> {
    if (signal?.aborted) return Promise.reject(cancelled());
    return new Promise<JobResult>((resolve, reject) => {
      this.enqueue(this.queueFor(model, 'tokens'), { batch, outputs, tokens: batch.ids.length, enqueuedAt: performance.now(), signal, ...this.counted(resolve, reject) });
    });
  }

  private submitImages(model: SchedulableModel, images: ImageWork, signal?: AbortSignal): Promise<ImageJobResult> {
    if (signal?.aborted) return Promise.reject(cancelled());
    return new Promise<ImageJobResult>((resolve, reject) => {
      this.enqueue(this.queueFor(model, 'images'), { images, tokens: images.pixels.length * images.tokensPerImage, enqueuedAt: performance.now(), signal, ...this.counted(resolve, reject) });
    });
  }

  /** A job's settle functions, counting it as outstanding until either is called. */
  private counted<T>(resolve: (result: T) => void, reject: (error: unknown) => void): { resolve: (result: T) => void; reject: (error: unknown) => void } {
    this.outstanding++;
    let settled = false;
    const settle = () => {
      if (!settled) this.outstanding--;
      settled = true;
    };
    return {
      resolve: (result) => (settle(), resolve(result)),
      reject: (error) => (settle(), reject(error)),
    };
  }

  private enqueue(queue: ModelQueue, job: Job | ImageJob): void {
    const model = queue.model;
    queue.jobs.push(job);
    queue.tokens += job.tokens;
    job.signal?.addEventListener('abort', () => this.drop(queue, job), { once: true });
    const now = performance.now();
    if (this.outstanding > 1) this.lastOverlapAt = now;
    const burst = now - this.lastOverlapAt < this.options.maxWaitMs;
    if (burst && this.running === 0 && queue.tokens < this.budgetOf(model)) this.pumpAfterWait();
    else if (this.running === 0 && this.inlineSized(queue, job.tokens)) this.pumpAfterIo();
    else this.pump();
    // After the pump is scheduled: immediates run in order, so a lone request's inline pass (and
    // its answer) goes before the observer's gauges, not after them.
    this.reportDepth(model.id);
  }

  /** Whether `tokens` from this queue are few enough to run on the event loop's thread, cost aside. */
  private inlineSized(queue: ModelQueue, tokens: number): boolean {
    return queue.kind === 'tokens' && tokens <= (this.options.inlineMaxTokens ?? 0) && queue.model.native.runNow !== undefined;
  }

  /** Whether a batch of `tokens` from this queue could run on the event loop's thread. */
  private mayRunInline(queue: ModelQueue, tokens: number): boolean {
    if (!this.inlineSized(queue, tokens)) return false;
    // Until a batch has shown what a token costs, the model's first requests take the worker thread.
    const perToken = this.msPerToken.get(queue.model);
    return perToken !== undefined && tokens * perToken <= INLINE_MAX_MS;
  }

  /** Folds a finished text batch into the model's cost per token. */
  private learnCost(model: SchedulableModel, tokens: number, inferenceMs: number): void {
    if (tokens <= 0) return;
    const sample = inferenceMs / tokens;
    const before = this.msPerToken.get(model);
    this.msPerToken.set(model, before === undefined ? sample : 0.75 * before + 0.25 * sample);
  }

  /** Dispatches once the event loop has handled the I/O it has in hand (the requests that arrived with this one). */
  private pumpAfterIo(): void {
    if (this.pumpImmediate || this.waitTimer) return;
    this.pumpImmediate = setImmediate(() => {
      this.pumpImmediate = undefined;
      this.pump(true);
    });
  }

  private queueFor(model: SchedulableModel, kind: QueueKind): ModelQueue {
    let queue = this.queues.find((q) => q.model === model && q.kind === kind);
    if (!queue) {
      queue = { model, kind, jobs: [], tokens: 0 };
      this.queues.push(queue);
    }
    return queue;
  }

  private removeIfEmpty(queue: ModelQueue): void {
    if (queue.jobs.length > 0) return;
    const at = this.queues.indexOf(queue);
    if (at < 0) return;
    this.queues.splice(at, 1);
    if (this.next > at) this.next--;
    this.reportDepth(queue.model.id);
  }

  private drop(queue: ModelQueue, job: Job | ImageJob): void {
    const at = queue.jobs.indexOf(job);
    if (at < 0) return;  // already dispatched: its result is simply not used
    queue.jobs.splice(at, 1);
    queue.tokens -= job.tokens;
    this.removeIfEmpty(queue);
    job.reject(cancelled());
  }

  private pumpAfterWait(): void {
    if (this.waitTimer) return;
    this.waitTimer = setTimeout(() => {
      this.waitTimer = undefined;
      this.pump();
    }, this.options.maxWaitMs);
  }

  /** Round-robin: the next queue after the last one served whose model may start a batch now. */
  private pickQueue(): ModelQueue | undefined {
    for (let i = 0; i < this.queues.length; i++) {
      const at = (this.next + i) % this.queues.length;
      const queue = this.queues[at];
      if (this.running < queue.model.maxBatchesInFlight) {
        this.next = at + 1;
        return queue;
      }
    }
    return undefined;
  }

  /** inline: a lone request may run on this thread (only when it arrived to an idle scheduler, not after a batch). */
  private pump(inline = false): void {
    if (this.waitTimer) {
      clearTimeout(this.waitTimer);
      this.waitTimer = undefined;
    }
    if (this.pumpImmediate) {
      clearImmediate(this.pumpImmediate);
      this.pumpImmediate = undefined;
    }
    for (let queue = this.pickQueue(); queue; queue = this.pickQueue()) this.dispatch(queue, inline);
  }

  private dispatch(queue: ModelQueue, inline: boolean): void {
    const jobs: Array<Job | ImageJob> = [];
    let tokens = 0, images = 0;
    const budget = this.budgetOf(queue.model);
    const fits = (job: Job | ImageJob) => tokens + job.tokens <= budget && ('batch' in job || images + job.images.pixels.length <= MAX_IMAGES_PER_BATCH);
    while (queue.jobs.length > 0 && (jobs.length === 0 || fits(queue.jobs[0]))) {
      const job = queue.jobs.shift()!;
      jobs.push(job);
      tokens += job.tokens;
      if (!('batch' in job)) images += job.images.pixels.length;
    }
    queue.tokens -= tokens;
    this.reportDepth(queue.model.id);
    this.removeIfEmpty(queue);
    // A lone short request with nothing else queued or running: on this thread, if the backend is idle.
    if (inline && jobs.length === 1 && this.running === 0 && this.queues.length === 0 && this.mayRunInline(queue, tokens) && this.executeInline(queue.model, jobs as Job[], tokens)) return;
    this.running++;
    const run = queue.kind === 'images' ? this.executeImages(queue.model, jobs as ImageJob[], tokens) : this.execute(queue.model, jobs as Job[], tokens);
    void run.finally(() => {
      this.running--;
      this.pump();
    });
  }

  private async execute(model: SchedulableModel, jobs: Job[], tokens: number): Promise<void> {
    const started = performance.now();
    const merged = mergeBatches(jobs.map((j) => j.batch));
    try {
      this.finish(model, jobs, tokens, merged, await model.native.run(merged.ids, merged.typeIds, merged.offsets, outputsOf(jobs)), started);
    } catch (error) {
      this.fail(model, jobs, tokens, merged, error, started);
    }
  }

  /** execute() on this thread, through runNow; false (nothing done) if the backend was busy. */
  private executeInline(model: SchedulableModel, jobs: Job[], tokens: number): boolean {
    const started = performance.now();
    const merged = mergeBatches(jobs.map((j) => j.batch));
    try {
      const out = model.native.runNow!(merged.ids, merged.typeIds, merged.offsets, outputsOf(jobs));
      if (out === null) return false;
      this.finish(model, jobs, tokens, merged, out, started);
    } catch (error) {
      this.fail(model, jobs, tokens, merged, error, started);
    }
    return true;
  }

  /** Hands each job its sequences of a batch's outputs, and reports the batch. */
  private finish(model: SchedulableModel, jobs: Job[], tokens: number, merged: TokenBatch, out: NativeRunOutput, started: number): void {
    const inferenceMs = performance.now() - started;
    this.learnCost(model, tokens, inferenceMs);
    const queueMs = jobs.map((j) => started - j.enqueuedAt);
    const sequences = splitOutput(out, merged.offsets, model.perTokenOutput);
    let at = 0;
    jobs.forEach((job, j) => {
      const count = job.batch.offsets.length - 1;
      job.resolve({ outputs: sequences.slice(at, at + count), queueMs: queueMs[j], inferenceMs });
      at += count;
    });
    this.reportBatch({ model: model.id, tokens, sequences: merged.offsets.length - 1, requests: jobs.length, queueMs, inferenceMs });
  }

  /** Fails every job of a batch with its error, and reports the batch. */
  private fail(model: SchedulableModel, jobs: Job[], tokens: number, merged: TokenBatch, error: unknown, started: number): void {
    for (const job of jobs) job.reject(error);
    const queueMs = jobs.map((j) => started - j.enqueuedAt);
    this.reportBatch({ model: model.id, tokens, sequences: merged.offsets.length - 1, requests: jobs.length, queueMs, inferenceMs: performance.now() - started });
  }

  private async executeImages(model: SchedulableModel, jobs: ImageJob[], tokens: number): Promise<void> {
    const started = performance.now();
    const queueMs = jobs.map((j) => started - j.enqueuedAt);
    const { pixels, count, side } = imageBatchOf(jobs);
    try {
      const out = await model.native.runImages(pixels, count, side, side);
      const inferenceMs = performance.now() - started;
      let at = 0;
      jobs.forEach((job, j) => {
        const vectors = job.images.pixels.map(() => out.values.slice(at * out.width, (at += 1) * out.width));
        job.resolve({ vectors, queueMs: queueMs[j], inferenceMs });
      });
    } catch (error) {
      for (const job of jobs) job.reject(error);
    }
    this.reportBatch({ model: model.id, tokens, sequences: count, requests: jobs.length, queueMs, inferenceMs: performance.now() - started });
  }

  private reportBatch(stats: BatchStats): void {
    if (this.observer.onBatch) setImmediate(() => this.observer.onBatch?.(stats));
  }

  /** Depth changes within one turn of the event loop reach the observer once, as they stand then. */
  private reportDepth(modelId: string): void {
    if (!this.observer.onQueueDepth) return;
    if (this.depthChanged.size === 0) {
      setImmediate(() => {
        for (const id of this.depthChanged) this.observer.onQueueDepth?.(id, this.depthOf(id));
        this.depthChanged.clear();
      });
    }
    this.depthChanged.add(modelId);
  }
}

/** One native vision call over the merged images of several requests, split back per request. */
function imageBatchOf(jobs: ImageJob[]): { pixels: Float32Array; count: number; side: number } {
  const side = jobs[0].images.side;
  const plane = 3 * side * side;
  const count = jobs.reduce((n, j) => n + j.images.pixels.length, 0);
  const pixels = new Float32Array(count * plane);
  let at = 0;
  for (const job of jobs) for (const image of job.images.pixels) pixels.set(image, (at++) * plane);
  return { pixels, count, side };
}

/** The outputs a merged batch computes: the union of its jobs' (all, if any job wants all). */
function outputsOf(jobs: Job[]): OutputType[] | undefined {
  if (jobs.some((j) => j.outputs === undefined)) return undefined;
  return [...new Set(jobs.flatMap((j) => j.outputs!))];
}
