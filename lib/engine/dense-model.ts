/**
 * One loaded dense embedding model: its tokenizer, its native weights and what it can do.
 * Splits large requests into native batches under a token budget so memory stays bounded.
 */
import path from 'node:path';
import type { DenseModelSpec } from '../models/model-config.js';
import { EngineError } from './engine-error.js';
import type { NativeAddon, NativeComputePool, NativeSentenceEmbedder } from './native-addon.js';
import { TextTokenizer, type TokenBatch } from './text-tokenizer.js';

export type EmbeddingInput = string | ReadonlyArray<number>;

export interface EmbedOptions {
  /** Truncate inputs longer than the model's max_seq_length (default true). */
  truncate?: boolean;
  /** Matryoshka truncation to the first `dimensions` values, then re-normalised. */
  dimensions?: number;
}

export interface EmbedResult {
  /** One vector per input, in input order (views into one native buffer where possible). */
  embeddings: Float32Array[];
  dims: number;
  /** Tokens per input, special tokens included. */
  tokenCounts: number[];
  timing: { tokenizationMs: number; inferenceMs: number };
}

export interface ModelDescription {
  id: string;
  directory: string;
  dims: number;
  maxSeqLength: number;
  pooling: string;
  normalize: boolean;
  weightBytes: number;
}

export class DenseEmbeddingModel {
  private constructor(
    readonly id: string,
    readonly spec: DenseModelSpec,
    private readonly tokenizer: TextTokenizer,
    private readonly native: NativeSentenceEmbedder,
    private readonly pool: NativeComputePool,
    private readonly maxBatchTokens: number,
  ) {}

  static async load(id: string, spec: DenseModelSpec, addon: NativeAddon, pool: NativeComputePool, maxBatchTokens: number): Promise<DenseEmbeddingModel> {
    const tokenizer = new TextTokenizer(spec.directory);
    if (tokenizer.vocabSize > spec.encoder.vocabSize) {
      throw new EngineError('BAD_CONFIG', `tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${spec.encoder.vocabSize}`);
    }
    let native: NativeSentenceEmbedder;
    try {
      native = await addon.loadSentenceEmbedder({ weightsPath: spec.weightsPath, ...spec.encoder, pooling: spec.pooling, normalize: spec.normalize });
    } catch (error) {
      throw EngineError.from(error, 'MODEL_LOAD_FAILED');
    }
    return new DenseEmbeddingModel(id, spec, tokenizer, native, pool, maxBatchTokens);
  }

  get dims(): number {
    return this.spec.encoder.hiddenSize;
  }

  describe(): ModelDescription {
    return {
      id: this.id,
      directory: path.resolve(this.spec.directory),
      dims: this.dims,
      maxSeqLength: this.spec.maxSeqLength,
      pooling: this.spec.pooling,
      normalize: this.spec.normalize,
      weightBytes: this.native.info.weightBytes,
    };
  }

  /** Memory the model holds now: packed weights plus its forward workspace. */
  memoryBytes(): number {
    const info = this.native.info;
    return info.weightBytes + info.workspaceBytes;
  }

  async embed(inputs: ReadonlyArray<EmbeddingInput>, options: EmbedOptions = {}): Promise<EmbedResult> {
    const dims = this.checkDimensions(options.dimensions);
    this.checkTokenIds(inputs);
    const started = performance.now();
    const { batch, tokenCounts } = this.tokenizer.batch(inputs, { truncate: options.truncate ?? true, maxLength: this.spec.maxSeqLength });
    const tokenized = performance.now();
    const embeddings: Float32Array[] = [];
    for (const [begin, end] of splitByTokenBudget(batch.offsets, this.maxBatchTokens)) {
      const out = await this.native.embed(this.pool, ...sliceBatch(batch, begin, end));
      for (let i = 0; i < end - begin; i++) embeddings.push(out.subarray(i * this.dims, (i + 1) * this.dims));
    }
    const inferred = performance.now();
    return {
      embeddings: dims === this.dims ? embeddings : embeddings.map((v) => truncateAndNormalize(v, dims)),
      dims,
      tokenCounts,
      timing: { tokenizationMs: tokenized - started, inferenceMs: inferred - tokenized },
    };
  }

  dispose(): void {
    this.native.dispose();
  }

  private checkDimensions(dimensions: number | undefined): number {
    if (dimensions === undefined) return this.dims;
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > this.dims) {
      throw new EngineError('INVALID_INPUT', `dimensions must be an integer between 1 and ${this.dims}`, { param: 'dimensions' });
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

function sliceBatch(batch: TokenBatch, begin: number, end: number): [Int32Array, Int32Array, Int32Array] {
  const from = batch.offsets[begin];
  const to = batch.offsets[end];
  const offsets = batch.offsets.slice(begin, end + 1);
  for (let i = 0; i < offsets.length; i++) offsets[i] -= from;
  return [batch.ids.subarray(from, to), batch.typeIds.subarray(from, to), offsets];
}

export function truncateAndNormalize(vector: Float32Array, dims: number): Float32Array {
  const out = vector.slice(0, dims);
  let sum = 0;
  for (const v of out) sum += v * v;
  const inv = 1 / Math.max(Math.sqrt(sum), 1e-12);
  for (let i = 0; i < dims; i++) out[i] *= inv;
  return out;
}
