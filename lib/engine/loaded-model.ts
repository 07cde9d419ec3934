/**
 * One loaded model: its family adapter, tokenizer and native model. It offers the three tasks
 * (encode, score, extract) to every family alike: tokenize through the one tokenization path,
 * run through the scheduler, and let the adapter turn raw outputs into answers.
 */
import { clipPixelValues } from '../images/clip-preprocessor.js';
import { decodeImage } from '../images/decode-image.js';
import path from 'node:path';
import type { NativeModel, NativeRunOutput, WeightDtype } from '../bindings/native-addon.js';
import { EngineError } from '../errors/engine-error.js';
import { tasksOf, type EncodedItem, type Extraction, type ModelAdapter, type OutputType, type SequenceOutput, type Task } from '../families/index.js';
import { truncateAndNormalize } from '../families/postprocessing/score-functions.js';
import { applyPrompt } from '../families/prompts.js';
import { defaultProfile, runtimeOptions, type ModelSettings } from './model-settings.js';
import type { BatchScheduler, SchedulableModel } from './scheduling/batch-scheduler.js';
import type { TokenBatch } from './scheduling/token-batch.js';
import { TextTokenizer } from './tokenization/text-tokenizer.js';
import type { Tokenization } from './tokenization/tokenization.js';
import { BF16_BAR, BF16X3_BAR, compareOutputs, fidelityCheckOf, PROBE_IMAGE_COUNT, PROBE_QUERY, PROBE_TEXTS, probeImagePixels, type FidelityVerdict } from './fidelity-gate.js';

export type EmbeddingInput = string | ReadonlyArray<number>;
export type { EncodedItem, Extraction, OutputType, Task, Classification, Entity, SparseEncoding, MultiVectorEncoding } from '../families/index.js';

/** Options every call takes. */
export interface RequestOptions {
  /** Truncate inputs longer than the model's max_seq_length (default true). */
  truncate?: boolean;
  /** Drops the work while it is still queued (client went away). */
  signal?: AbortSignal;
}

export interface Timing {
  /** Time in the scheduler's queue before the first native batch started. */
  queueMs: number;
  tokenizationMs: number;
  inferenceMs: number;
}

export interface EmbedOptions extends RequestOptions {
  /** Matryoshka truncation to the first `dimensions` values, then re-normalised. */
  dimensions?: number;
}

export interface EmbedResult {
  /** One vector per input, in input order (views into one native buffer where possible). */
  embeddings: Float32Array[];
  dims: number;
  /** Tokens per input, special tokens included. */
  tokenCounts: number[];
  timing: Timing;
}

export interface ModelEncodeOptions extends RequestOptions {
  /** Default: the profile's output types, else dense. */
  outputTypes?: OutputType[];
  /** A bundle profile whose runtime options (templates, instruction, output types) apply. */
  profile?: string;
  /** SIE's is_query: picks the model's "query" prompt (true) or "document" prompt (false). */
  isQuery?: boolean;
  /** Prepended as "{instruction} {text}" when the model has no prompt for the input's role. */
  instruction?: string | null;
}

export interface ScoreOptions extends RequestOptions {
  /** Prepended to the query as "{instruction} {query}", as SIE's cross-encoder adapter does. */
  instruction?: string | null;
}

export interface ExtractOptions extends RequestOptions {
  /** Keep only these labels (entity types or classes). */
  labels?: string[];
  /** Keep only entities and classifications scoring at least this (0..1). */
  threshold?: number;
}

export interface ModelDescription {
  id: string;
  family: string;
  directory: string;
  tasks: Task[];
  outputs: OutputType[];
  dims: Partial<Record<OutputType, number>>;
  labels?: string[];
  maxSeqLength: number;
  weightBytes: number;
  /** The weight dtype in use (after the fidelity gate). */
  dtype: WeightDtype;
  /** The fidelity gate's verdict when a fast dtype was tried. */
  fidelity?: FidelityVerdict;
}

/** How the engine wants a model loaded: its weights in `dtype`, through `loadNative`, with a bundle's settings. */
export interface NativeLoad {
  dtype: WeightDtype;
  loadNative(dtype: WeightDtype, options?: { fp32Attention?: boolean }): Promise<NativeModel>;
  settings?: ModelSettings;
}

export class LoadedModel implements SchedulableModel {
  readonly maxBatchesInFlight: number;
  readonly maxBatchTokens: number | undefined;

  private constructor(
    readonly id: string,
    readonly directory: string,
    readonly adapter: ModelAdapter,
    private readonly tokenizer: TextTokenizer,
    readonly native: NativeModel,
    readonly dtype: WeightDtype,
    readonly fidelity: FidelityVerdict | undefined,
    private readonly scheduler: BatchScheduler,
    private readonly tokenization: Tokenization,
    private readonly settings: ModelSettings | undefined,
  ) {
    this.maxBatchesInFlight = Math.max(1, native.info.maxBatchesInFlight ?? 1);
    this.maxBatchTokens = defaultProfile(settings).maxBatchTokens;
  }

  static async load(id: string, directory: string, adapter: ModelAdapter, load: NativeLoad, scheduler: BatchScheduler, tokenization: Tokenization): Promise<LoadedModel> {
    const tokenizer = new TextTokenizer(directory);
    if (tokenizer.vocabSize > adapter.vocabSize) {
      throw new EngineError('BAD_CONFIG', `tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${adapter.vocabSize}`);
    }
    try {
      const exact = await load.loadNative('fp32');
      if (load.dtype === 'fp32') return new LoadedModel(id, directory, adapter, tokenizer, exact, 'fp32', undefined, scheduler, tokenization, load.settings);
      // The fidelity gate: keep the fast model only if it answers the probe like the exact one.
      // A bf16 model that fails is tried once more with attention in fp32 (its matrix products
      // stay bf16): deep models whose sparse weights move with bf16 attention (bge-m3) keep most
      // of the speed rather than all falling back to fp32. A bf16x3q model that fails (its 4-bit
      // weight remainders move reranker scores and sparse weights past fp32's bars, where dense
      // vectors stay within them) is tried as bf16x3, which meets them.
      const probe = adapter.scorer
        ? tokenizer.pairBatch(PROBE_TEXTS.map((text) => [PROBE_QUERY, text] as const), { truncate: true, maxLength: adapter.maxSeqLength }).batch
        : tokenizer.batch(PROBE_TEXTS, { truncate: true, maxLength: adapter.maxSeqLength }).batch;
      const expected = await exact.run(probe.ids, probe.typeIds, probe.offsets);
      // A vision tower answers its own probe: the text probe never runs it.
      const imageProbe = adapter.images ? await probeImagePixels(adapter.images) : undefined;
      const side = adapter.images?.imageSize ?? 0;
      const expectedImages = imageProbe ? await exact.runImages(imageProbe, PROBE_IMAGE_COUNT, side, side) : undefined;
      type Attempt = { dtype: WeightDtype; fp32Attention?: boolean };
      const attempts: Attempt[] =
        load.dtype === 'bf16' && adapter.description.architecture !== 'clip' ? [{ dtype: 'bf16' }, { dtype: 'bf16', fp32Attention: true }]
        : load.dtype === 'bf16x3q' ? [{ dtype: 'bf16x3q' }, { dtype: 'bf16x3' }]
        : [{ dtype: load.dtype }];
      let verdict: FidelityVerdict | undefined;
      const refusals: string[] = [];
      const describe = (a: Attempt) => (a.fp32Attention ? 'attention in fp32' : a.dtype);
      for (const [n, attempt] of attempts.entries()) {
        const { dtype, ...options } = attempt;
        const fast = await load.loadNative(dtype, options);
        const bar = dtype === 'bf16x3' || dtype === 'bf16x3q' ? BF16X3_BAR : BF16_BAR;
        verdict = compareOutputs(fidelityCheckOf(adapter), expected, await fast.run(probe.ids, probe.typeIds, probe.offsets), bar);
        if (imageProbe && expectedImages) {
          const images = compareOutputs('vectors', expectedImages, await fast.runImages(imageProbe, PROBE_IMAGE_COUNT, side, side), bar);
          verdict = { ok: verdict.ok && images.ok, detail: `text: ${verdict.detail}; images: ${images.detail}` };
        }
        if (verdict.ok) {
          exact.dispose();
          const detail = attempt.fp32Attention ? `${verdict.detail}; attention kept in fp32 (with bf16 attention: ${refusals.join('; ')})`
            : n > 0 ? `${verdict.detail}; kept as ${dtype} (as ${describe(attempts[0])}: ${refusals.join('; ')})`
            : verdict.detail;
          return new LoadedModel(id, directory, adapter, tokenizer, fast, dtype, { ...verdict, detail }, scheduler, tokenization, load.settings);
        }
        fast.dispose();
        refusals.push(n > 0 ? `then, ${describe(attempt)}: ${verdict.detail}` : verdict.detail);
      }
      return new LoadedModel(id, directory, adapter, tokenizer, exact, 'fp32', { ...verdict!, detail: refusals.join('; ') }, scheduler, tokenization, load.settings);
    } catch (error) {
      throw EngineError.from(error, 'MODEL_LOAD_FAILED');
    }
  }

  get perTokenOutput(): boolean {
    return this.adapter.perTokenOutput;
  }

  get tasks(): Task[] {
    return tasksOf(this.adapter);
  }

  get outputs(): OutputType[] {
    return this.adapter.encoder?.outputs ?? [];
  }

  get maxSeqLength(): number {
    return this.adapter.maxSeqLength;
  }

  describe(): ModelDescription {
    return {
      id: this.id,
      family: this.adapter.family,
      directory: path.resolve(this.directory),
      tasks: this.tasks,
      outputs: this.outputs,
      dims: this.adapter.encoder?.dims ?? {},
      labels: this.adapter.extractor?.labels,
      maxSeqLength: this.adapter.maxSeqLength,
      weightBytes: this.native.info.weightBytes ?? 0,
      dtype: this.dtype,
      fidelity: this.fidelity,
    };
  }

  /** Memory the model holds now: weights plus its forward workspace. */
  memoryBytes(): number {
    const info = this.native.info;
    return (info.weightBytes ?? 0) + (info.workspaceBytes ?? 0);
  }

  /** OpenAI-style dense embeddings of texts or token-id lists. */
  async embed(inputs: ReadonlyArray<EmbeddingInput>, options: EmbedOptions = {}): Promise<EmbedResult> {
    const dims = this.adapter.encoder?.dims.dense;
    if (dims === undefined) throw this.cannot('dense embeddings');
    const wanted = checkDimensions(options.dimensions, dims);
    const denseOf = (o: SequenceOutput) => (this.adapter.encoder!.outputs.length > 1 ? o.parts!.dense! : o).values;
    this.checkTokenIds(inputs);
    // sentence-transformers' model.encode(texts): the default prompt, if the model names one.
    const texts = inputs.filter((x): x is string => typeof x === 'string').map((text) => applyPrompt(this.adapter.prompts, text));
    const started = performance.now();
    const tokenized = await this.contentTokens(texts);
    let next = 0;
    const contents = inputs.map((input) => (typeof input === 'string' ? tokenized[next++].ids : [...input]));
    const { batch, tokenCounts } = this.tokenizer.batchOfContent(contents, { truncate: options.truncate ?? true, maxLength: this.maxSeqLength });
    const tokenizationMs = performance.now() - started;
    const { outputs, queueMs, inferenceMs } = await this.scheduler.run(this, batch, options.signal, ['dense']);
    const embeddings = outputs.map((o) => (wanted === dims ? denseOf(o) : truncateAndNormalize(denseOf(o), wanted)));
    return { embeddings, dims: wanted, tokenCounts, timing: { queueMs, tokenizationMs, inferenceMs } };
  }

  /** SIE encode: every requested output type, from one forward. */
  async encode(texts: ReadonlyArray<string>, options: ModelEncodeOptions = {}): Promise<{ items: EncodedItem[]; tokenCounts: number[]; timing: Timing }> {
    const encoder = this.adapter.encoder;
    if (!encoder) throw this.cannot('encode');
    const runtime = runtimeOptions(this.settings, options.profile, this.id);
    const outputTypes = options.outputTypes ?? runtime.outputTypes ?? ['dense'];
    for (const type of outputTypes) {
      if (!encoder.outputs.includes(type)) {
        throw new EngineError('INVALID_INPUT', `model ${this.id} cannot produce '${type}' outputs (it produces: ${encoder.outputs.join(', ')})`, { param: 'params.output_types' });
      }
    }
    const isQuery = options.isQuery ?? runtime.isQuery ?? false;
    const instruction = options.instruction ?? runtime.instruction;
    const template = isQuery ? runtime.queryTemplate : runtime.docTemplate;
    const started = performance.now();
    // A bundle's template wins over the checkpoint's prompts, as in SIE.
    const prompted = texts.map((text) => (template !== undefined
      ? fillTemplate(template, text, instruction)
      : applyPrompt(this.adapter.prompts, text, { isQuery, instruction })));
    const tokenized = await this.contentTokens(prompted);
    const { batch, tokenCounts } = this.tokenizer.batchOfContent(tokenized.map((t) => t.ids), {
      truncate: options.truncate ?? true,
      maxLength: this.maxSeqLength,
      insertAfterPrefix: encoder.markers?.(isQuery, this.tokenizer) ?? [],
    });
    const tokenizationMs = performance.now() - started;
    const { outputs, queueMs, inferenceMs } = await this.scheduler.run(this, batch, options.signal, outputTypes);
    const items = encoder.decode(outputs, { ids: batch.ids, offsets: batch.offsets, isQuery, vocabulary: this.tokenizer, outputTypes });
    return { items, tokenCounts, timing: { queueMs, tokenizationMs, inferenceMs } };
  }

  /**
   * Image embeddings (CLIP), one per item: every image decoded (first frame, as PIL opens it),
   * preprocessed exactly as CLIPImageProcessor does, run through the vision tower; an item's
   * several images give the mean of their normalised embeddings, as SIE's CLIP adapter does.
   */
  async encodeImages(items: ReadonlyArray<ReadonlyArray<Uint8Array>>, options: { signal?: AbortSignal; params?: ReadonlyArray<ReadonlyArray<string>> } = {}): Promise<{ items: EncodedItem[]; timing: Timing }> {
    const images = this.adapter.images;
    if (!images) throw new EngineError('INVALID_INPUT', `model ${this.id} accepts text only`);
    const started = performance.now();
    const side = images.imageSize;
    const flat = items.flat();
    const params = options.params?.flat();
    // Decoding (sharp) and the pixel preprocessing (native) run on libuv's threads, beside model compute. A
    // failure names the request field the image came from, when the route said which.
    const pixels = await Promise.all(flat.map(async (data, k) => {
      try {
        return await clipPixelValues(await decodeImage(data), images.preprocessing);
      } catch (error) {
        // The native resize's coded errors (an absurd aspect ratio: a side past 32768 pixels)
        // become EngineErrors with their code, so the route answers 400, not 500.
        const failure = EngineError.from(error);
        if (!params?.[k]) throw failure;
        throw new EngineError(failure.code, `${params[k]}: ${failure.message}`, { param: params[k], cause: error });
      }
    }));
    options.signal?.throwIfAborted();
    const preprocessMs = performance.now() - started;
    // The vision tower's batches go through the scheduler, costed in vision tokens and fair with
    // this model's text and with other models.
    const { vectors, queueMs, inferenceMs } = await this.scheduler.runImages(this, { pixels, side, tokensPerImage: images.tokensPerImage }, options.signal);
    let at = 0;
    const encoded = items.map((list) => {
      const own = vectors.slice(at, (at += list.length));
      const mean = new Float32Array(own[0].length);
      for (const v of own) for (let j = 0; j < v.length; j++) mean[j] += v[j] / own.length;
      return { dense: mean };
    });
    return { items: encoded, timing: { queueMs, tokenizationMs: preprocessMs, inferenceMs } };
  }

  /** Relevance of each document to the query, in document order. */
  async score(query: string, documents: ReadonlyArray<string>, options: ScoreOptions = {}): Promise<{ scores: number[]; timing: Timing }> {
    const scorer = this.adapter.scorer;
    if (!scorer) throw this.cannot('score');
    const started = performance.now();
    const instructed = options.instruction ? `${options.instruction} ${query}` : query;
    const [queryTokens, ...documentTokens] = await this.contentTokens([instructed, ...documents]);
    const { batch } = this.tokenizer.pairBatchOfContent(documentTokens.map((d) => [queryTokens.ids, d.ids] as const), { truncate: options.truncate ?? true, maxLength: this.maxSeqLength });
    const tokenizationMs = performance.now() - started;
    const { outputs, queueMs, inferenceMs } = await this.scheduler.run(this, batch, options.signal);
    return { scores: scorer.decode(outputs), timing: { queueMs, tokenizationMs, inferenceMs } };
  }

  /** Entities and/or classifications of each text, as the model's family produces them. */
  async extract(texts: ReadonlyArray<string>, options: ExtractOptions = {}): Promise<{ items: Extraction[]; timing: Timing }> {
    const extractor = this.adapter.extractor;
    if (!extractor) throw this.cannot('extract');
    const labels = options.labels && options.labels.length > 0 ? options.labels : undefined;
    if (labels) extractor.checkLabels(labels, this.id);
    const started = performance.now();
    const tokenized = await this.contentTokens([...texts], extractor.needsTokens);
    const { batch } = this.tokenizer.batchOfContent(tokenized.map((t) => t.ids), { truncate: options.truncate ?? true, maxLength: this.maxSeqLength });
    const tokenizationMs = performance.now() - started;
    const { outputs, queueMs, inferenceMs } = await this.scheduler.run(this, batch, options.signal);
    const decoded = extractor.decode(outputs, texts, extractor.needsTokens ? tokenized : undefined, labels);
    const threshold = options.threshold;
    const items = threshold === undefined ? decoded : decoded.map((item) => ({
      entities: item.entities.filter((e) => e.score >= threshold),
      classifications: item.classifications.filter((c) => c.score >= threshold),
    }));
    return { items, timing: { queueMs, tokenizationMs, inferenceMs } };
  }

  /** The model's raw output for a prepared token batch (parity checks, advanced callers). */
  async runTokenBatch(batch: TokenBatch): Promise<NativeRunOutput> {
    return this.native.run(batch.ids, batch.typeIds, batch.offsets);
  }

  /** The padding-free batch this model would run for `texts` (parity checks). */
  tokenize(texts: ReadonlyArray<string>): TokenBatch {
    return this.tokenizer.batch(texts, { truncate: true, maxLength: this.maxSeqLength }).batch;
  }

  /** The padding-free batch of (query, document) pairs (parity checks). */
  tokenizePairs(pairs: ReadonlyArray<readonly [string, string]>): TokenBatch {
    return this.tokenizer.pairBatch(pairs, { truncate: true, maxLength: this.maxSeqLength }).batch;
  }

  dispose(): void {
    this.native.dispose();
  }

  private contentTokens(texts: string[], withTokens = false) {
    return this.tokenization.contentTokens(this.id, this.directory, this.tokenizer, texts, withTokens);
  }

  private cannot(what: string): EngineError {
    const outputs = this.outputs.length ? ` with ${this.outputs.join(', ')} outputs` : '';
    return new EngineError('INVALID_INPUT', `model ${this.id} does not support ${what} (it supports: ${this.tasks.join(', ')}${outputs})`, { param: 'model' });
  }

  private checkTokenIds(inputs: ReadonlyArray<EmbeddingInput>): void {
    const vocab = this.adapter.vocabSize;
    inputs.forEach((input, i) => {
      if (typeof input === 'string') return;
      input.forEach((id, j) => {
        if (!Number.isInteger(id) || id < 0 || id >= vocab) {
          throw new EngineError('INVALID_INPUT', `input[${i}][${j}] = ${id} is not a token id of this model (0..${vocab - 1})`, { param: `input[${i}][${j}]` });
        }
      });
    });
  }
}

/** SIE's templates: "{text}" and "{instruction}" filled in ("{{" and "}}" are literal braces). */
export function fillTemplate(template: string, text: string, instruction: string | null | undefined): string {
  return template.replace(/\{\{|\}\}|\{text\}|\{instruction\}/g, (m) => (m === '{{' ? '{' : m === '}}' ? '}' : m === '{text}' ? text : instruction ?? ''));
}

function checkDimensions(dimensions: number | undefined, dims: number): number {
  if (dimensions === undefined) return dims;
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > dims) {
    throw new EngineError('INVALID_INPUT', `dimensions must be an integer between 1 and ${dims}`, { param: 'dimensions' });
  }
  return dimensions;
}
