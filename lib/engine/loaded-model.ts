/**
 * One loaded model: tokenizer, native weights and head, and what it can answer: dense / sparse /
 * multivector encodings, cross-encoder scores, classifications or entities. Large requests are
 * split into native batches under a token budget so memory stays bounded.
 */
import path from 'node:path';
import type { HeadSpec, ModelSpec } from '../models/model-config.js';
import { EngineError } from './engine-error.js';
import type { BatchScheduler, SchedulableModel, SequenceOutput } from './batch-scheduler.js';
import type { NativeAddon, NativeComputePool, NativeModel, NativeRunOutput } from './native-addon.js';
import { aggregateBio, entityTypes, type Entity } from './entity-aggregation.js';
import { sigmoid, softmax, truncateAndNormalize } from './score-functions.js';
import { TextTokenizer, type TokenBatch } from './text-tokenizer.js';
import type { TokenizationPool } from './tokenization-pool.js';

export type EmbeddingInput = string | ReadonlyArray<number>;
export type OutputType = 'dense' | 'sparse' | 'multivector';
export type Task = 'encode' | 'score' | 'extract';
export type { Entity } from './entity-aggregation.js';

/** Options every call takes. */
export interface RequestOptions {
  /** Truncate inputs longer than the model's max_seq_length (default true). */
  truncate?: boolean;
  /** Drops the work while it is still queued (client went away). */
  signal?: AbortSignal;
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

export interface Timing {
  tokenizationMs: number;
  inferenceMs: number;
}

export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
  dims: number;
}

export interface MultiVector {
  /** num_tokens x token_dims, row-major. */
  values: Float32Array;
  numTokens: number;
  tokenDims: number;
}

export interface EncodedItem {
  dense?: Float32Array;
  sparse?: SparseVector;
  multivector?: MultiVector;
}

export interface EncodeOptions extends RequestOptions {
  outputTypes?: OutputType[];
  isQuery?: boolean;
}

export interface Classification {
  label: string;
  score: number;
}

export interface ModelDescription {
  id: string;
  directory: string;
  architectures: string[];
  tasks: Task[];
  outputs: OutputType[];
  dims: Partial<Record<OutputType, number>>;
  labels?: string[];
  maxSeqLength: number;
  weightBytes: number;
}

/** Requests with fewer characters than this are tokenized on the event loop (well under a millisecond). */
const INLINE_TOKENIZATION_CHARS = 16384;

export class LoadedModel implements SchedulableModel {
  /** Token ids of the ColBERT skiplist words, computed on first use. */
  private skiplistIds: Set<number> | undefined;

  private constructor(
    readonly id: string,
    readonly spec: ModelSpec,
    private readonly tokenizer: TextTokenizer,
    readonly native: NativeModel,
    private readonly pool: NativeComputePool,
    private readonly scheduler: BatchScheduler,
    private readonly tokenization: TokenizationPool | undefined,
  ) {}

  static async load(id: string, spec: ModelSpec, addon: NativeAddon, pool: NativeComputePool, scheduler: BatchScheduler, tokenization?: TokenizationPool): Promise<LoadedModel> {
    const tokenizer = new TextTokenizer(spec.directory);
    if (tokenizer.vocabSize > spec.encoder.vocabSize) {
      throw new EngineError('BAD_CONFIG', `tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${spec.encoder.vocabSize}`);
    }
    let native: NativeModel;
    try {
      native = await addon.loadModel({ weightsPath: spec.weightsPath, ...spec.encoder, ...nativeHeadOptions(spec.head) });
    } catch (error) {
      throw EngineError.from(error, 'MODEL_LOAD_FAILED');
    }
    return new LoadedModel(id, spec, tokenizer, native, pool, scheduler, tokenization);
  }

  get perTokenOutput(): boolean {
    return this.head.kind === 'colbert' || this.head.kind === 'token-classifier';
  }

  get head(): HeadSpec {
    return this.spec.head;
  }

  get tasks(): Task[] {
    const kind = this.head.kind;
    if (kind === 'sequence-classifier') return this.head.labels.length === 1 ? ['score'] : ['extract'];
    if (kind === 'token-classifier') return ['extract'];
    return ['encode'];
  }

  get outputs(): OutputType[] {
    const kind = this.head.kind;
    return kind === 'dense' ? ['dense'] : kind === 'splade' ? ['sparse'] : kind === 'colbert' ? ['multivector'] : [];
  }

  get dims(): Partial<Record<OutputType, number>> {
    const head = this.head;
    if (head.kind === 'dense') return { dense: this.spec.encoder.hiddenSize };
    if (head.kind === 'splade') return { sparse: this.spec.encoder.vocabSize };
    if (head.kind === 'colbert') return { multivector: head.outputSize };
    return {};
  }

  describe(): ModelDescription {
    const head = this.head;
    return {
      id: this.id,
      directory: path.resolve(this.spec.directory),
      architectures: this.spec.architectures,
      tasks: this.tasks,
      outputs: this.outputs,
      dims: this.dims,
      labels: head.kind === 'sequence-classifier' || head.kind === 'token-classifier' ? head.labels : undefined,
      maxSeqLength: this.spec.maxSeqLength,
      weightBytes: this.native.info.weightBytes ?? 0,
    };
  }

  /** Memory the model holds now: packed weights plus its forward workspace. */
  memoryBytes(): number {
    const info = this.native.info;
    return (info.weightBytes ?? 0) + (info.workspaceBytes ?? 0);
  }

  /** OpenAI-style dense embeddings. */
  async embed(inputs: ReadonlyArray<EmbeddingInput>, options: EmbedOptions = {}): Promise<EmbedResult> {
    if (this.head.kind !== 'dense') throw this.cannot('dense embeddings', 'model');
    const dims = this.spec.encoder.hiddenSize;
    const wanted = this.checkDimensions(options.dimensions, dims);
    this.checkTokenIds(inputs);
    const started = performance.now();
    const contents = await this.contentIdsOf(inputs);
    const { batch, tokenCounts } = this.tokenizer.batchOfContent(contents, { truncate: options.truncate ?? true, maxLength: this.spec.maxSeqLength });
    const tokenized = performance.now();
    const outputs = await this.runSequences(batch, options.signal);
    const embeddings = outputs.map((o) => (wanted === dims ? o.values : truncateAndNormalize(o.values, wanted)));
    return { embeddings, dims: wanted, tokenCounts, timing: { tokenizationMs: tokenized - started, inferenceMs: performance.now() - tokenized } };
  }

  /** SIE encode: every requested output type this model can produce. */
  async encode(texts: ReadonlyArray<string>, options: EncodeOptions = {}): Promise<{ items: EncodedItem[]; tokenCounts: number[]; timing: Timing }> {
    if (!this.tasks.includes('encode')) throw this.cannot('encode', 'model');
    const requested = options.outputTypes ?? ['dense'];
    for (const type of requested) {
      if (!this.outputs.includes(type)) {
        throw new EngineError('INVALID_INPUT', `model ${this.id} cannot produce '${type}' outputs (it produces: ${this.outputs.join(', ')})`, { param: 'params.output_types' });
      }
    }
    const started = performance.now();
    const contents = await this.contentIdsOf(texts);
    const { batch, tokenCounts } = this.tokenizer.batchOfContent(contents, { truncate: options.truncate ?? true, maxLength: this.spec.maxSeqLength, insertAfterPrefix: this.markerFor(options.isQuery) });
    const tokenized = performance.now();
    const outputs = await this.runSequences(batch, options.signal);
    const head = this.head;
    const items = outputs.map((o, i): EncodedItem => {
      if (head.kind === 'splade') return { sparse: { indices: o.indices!, values: o.values, dims: this.spec.encoder.vocabSize } };
      if (head.kind === 'colbert') return { multivector: this.colbertVectors(o, batch, i, head, options.isQuery ?? false) };
      return { dense: o.values };
    });
    return { items, tokenCounts, timing: { tokenizationMs: tokenized - started, inferenceMs: performance.now() - tokenized } };
  }

  /** Cross-encoder relevance of each document to the query: sigmoid of the single logit. */
  async score(query: string, documents: ReadonlyArray<string>, options: RequestOptions = {}): Promise<{ scores: number[]; logits: number[]; timing: Timing }> {
    if (!this.tasks.includes('score')) throw this.cannot('score', 'model');
    const started = performance.now();
    const { batch } = this.tokenizer.pairBatch(documents.map((d) => [query, d] as const), { truncate: options.truncate ?? true, maxLength: this.spec.maxSeqLength });
    const tokenized = performance.now();
    const logits = (await this.runSequences(batch, options.signal)).map((o) => o.values[0]);
    return { scores: logits.map(sigmoid), logits, timing: { tokenizationMs: tokenized - started, inferenceMs: performance.now() - tokenized } };
  }

  /** Sequence classification: softmax (or sigmoid when multi-label) over the labels, best first. */
  async classify(texts: ReadonlyArray<string>, options: RequestOptions = {}): Promise<Classification[][]> {
    const head = this.head;
    if (head.kind !== 'sequence-classifier' || head.labels.length < 2) throw this.cannot('classification', 'model');
    const { batch } = this.tokenizer.batch(texts, { truncate: options.truncate ?? true, maxLength: this.spec.maxSeqLength });
    return (await this.runSequences(batch, options.signal)).map((o) => {
      const probabilities = head.multiLabel ? Array.from(o.values, sigmoid) : softmax(o.values);
      return head.labels.map((label, j) => ({ label, score: probabilities[j] })).sort((a, b) => b.score - a.score);
    });
  }

  /** Token classification with BIO aggregation into character spans. */
  async extractEntities(texts: ReadonlyArray<string>, options: RequestOptions & { labels?: string[] } = {}): Promise<Entity[][]> {
    const head = this.head;
    if (head.kind !== 'token-classifier') throw this.cannot('entity extraction', 'model');
    const types = entityTypes(head.labels);
    for (const wanted of options.labels ?? []) {
      if (!types.has(wanted)) throw new EngineError('INVALID_INPUT', `label '${wanted}' is not an entity type of model ${this.id} (types: ${[...types].join(', ')})`, { param: 'params.labels' });
    }
    const tokenized = texts.map((text) => this.tokenizer.contentTokens(text));
    const { batch } = this.tokenizer.batchOfContent(tokenized.map((t) => t.ids), { truncate: options.truncate ?? true, maxLength: this.spec.maxSeqLength });
    const outputs = await this.runSequences(batch, options.signal);
    const prefixLength = 1;  // [CLS]
    return outputs.map((o, i) => {
      const count = Math.min(tokenized[i].ids.length, o.rows - prefixLength - 1);
      const perToken = Array.from({ length: count }, (_, t) => {
        const probabilities = softmax(o.values.subarray((t + prefixLength) * head.labels.length, (t + prefixLength + 1) * head.labels.length));
        let best = 0;
        for (let j = 1; j < probabilities.length; j++) if (probabilities[j] > probabilities[best]) best = j;
        return { label: head.labels[best], score: probabilities[best], span: tokenized[i].spans[t], continuation: tokenized[i].tokens[t].startsWith('##') };
      });
      const entities = aggregateBio(texts[i], perToken);
      return options.labels && options.labels.length > 0 ? entities.filter((e) => options.labels!.includes(e.label)) : entities;
    });
  }

  /** The head's raw output for a prepared token batch (parity checks, advanced callers). */
  async runTokenBatch(batch: TokenBatch): Promise<NativeRunOutput> {
    return this.native.run(this.pool, batch.ids, batch.typeIds, batch.offsets);
  }

  dispose(): void {
    this.native.dispose();
  }

  /**
   * Content token ids of each input: token-id inputs as they are, texts tokenized inline when
   * the request is small and on a worker thread when it is large enough to stall the event loop.
   */
  private async contentIdsOf(inputs: ReadonlyArray<EmbeddingInput>): Promise<number[][]> {
    const texts = inputs.filter((x): x is string => typeof x === 'string');
    const characters = texts.reduce((n, t) => n + t.length, 0);
    if (!this.tokenization || characters < INLINE_TOKENIZATION_CHARS) {
      return inputs.map((input) => (typeof input === 'string' ? this.tokenizer.contentIds(input) : [...input]));
    }
    const tokenized = await this.tokenization.contentIds(this.spec.directory, texts);
    let next = 0;
    return inputs.map((input) => (typeof input === 'string' ? tokenized[next++] : [...input]));
  }

  private markerFor(isQuery: boolean | undefined): number[] {
    const head = this.head;
    if (head.kind !== 'colbert') return [];
    const marker = isQuery ? head.queryPrefix : head.documentPrefix;
    return marker ? [this.tokenizer.idOf(marker)] : [];
  }

  /** ColBERT document vectors skip the skiplist's tokens (punctuation), as PyLate does; queries keep all. */
  private colbertVectors(o: SequenceOutput, batch: TokenBatch, index: number, head: Extract<HeadSpec, { kind: 'colbert' }>, isQuery: boolean): MultiVector {
    const width = head.outputSize;
    if (isQuery || head.skiplistWords.length === 0) return { values: o.values, numTokens: o.rows, tokenDims: width };
    this.skiplistIds ??= new Set(head.skiplistWords.flatMap((word) => this.tokenizer.contentIds(word).slice(0, 1)));
    const ids = batch.ids.subarray(batch.offsets[index], batch.offsets[index + 1]);
    const kept: number[] = [];
    ids.forEach((id, t) => {
      if (!this.skiplistIds!.has(id)) kept.push(t);
    });
    const values = new Float32Array(kept.length * width);
    kept.forEach((t, r) => values.set(o.values.subarray(t * width, (t + 1) * width), r * width));
    return { values, numTokens: kept.length, tokenDims: width };
  }

  private cannot(what: string, param: string): EngineError {
    return new EngineError('INVALID_INPUT', `model ${this.id} does not support ${what} (it supports: ${this.tasks.join(', ')}${this.outputs.length ? ` with ${this.outputs.join(', ')} outputs` : ''})`, { param });
  }

  private checkDimensions(dimensions: number | undefined, dims: number): number {
    if (dimensions === undefined) return dims;
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > dims) {
      throw new EngineError('INVALID_INPUT', `dimensions must be an integer between 1 and ${dims}`, { param: 'dimensions' });
    }
    return dimensions;
  }

  private checkTokenIds(inputs: ReadonlyArray<EmbeddingInput>): void {
    const vocab = this.spec.encoder.vocabSize;
    inputs.forEach((input, i) => {
      if (typeof input === 'string') return;
      input.forEach((id, j) => {
        if (!Number.isInteger(id) || id < 0 || id >= vocab) {
          throw new EngineError('INVALID_INPUT', `input[${i}][${j}] = ${id} is not a token id of this model (0..${vocab - 1})`, { param: `input[${i}][${j}]` });
        }
      });
    });
  }

  /** Runs the batch through the scheduler (merged with other requests) and slices it per sequence. */
  private runSequences(batch: TokenBatch, signal?: AbortSignal): Promise<SequenceOutput[]> {
    return this.scheduler.run(this, batch, signal);
  }
}

function nativeHeadOptions(head: HeadSpec) {
  switch (head.kind) {
    case 'dense': return { head: 'pooled' as const, pooling: head.pooling, normalize: head.normalize };
    case 'colbert': return { head: 'token-projection' as const, projectionPath: head.projectionPath, outputSize: head.outputSize };
    case 'splade': return { head: 'splade' as const };
    case 'sequence-classifier': return { head: 'sequence-classifier' as const, outputSize: head.labels.length };
    case 'token-classifier': return { head: 'token-classifier' as const, outputSize: head.labels.length };
  }
}
