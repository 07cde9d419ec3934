/**
 * The contract between the engine and a model family. A family recognises its checkpoints and
 * returns a ModelAdapter for one of them: what the model can do (tasks, outputs, dims, labels),
 * what the native backend must build (NativeModelDescription), and how the model's raw output
 * becomes answers. The engine and the routes only ever talk to adapters: adding a family is
 * adding a file to lib/families and a row to lib/families/index.ts.
 */
import type { ClipPreprocessing } from '../images/clip-preprocessor.js';
import type { NativeModelDescription } from '../bindings/native-addon.js';
import type { Entity } from './postprocessing/entity-aggregation.js';
import type { Checkpoint } from './checkpoint.js';
import type { Prompts } from './prompts.js';

export type { Entity } from './postprocessing/entity-aggregation.js';
export type Task = 'encode' | 'score' | 'extract';
export type OutputType = 'dense' | 'sparse' | 'multivector';
export const OUTPUT_TYPES: readonly OutputType[] = ['dense', 'sparse', 'multivector'];

/** One sequence's slice of a native result. */
export interface SequenceOutput {
  values: Float32Array;
  indices?: Int32Array;
  rows: number;
  /** A multi-output head's outputs (bge-m3), each sliced to this sequence. */
  parts?: Partial<Record<OutputType, SequenceOutput>>;
}

export interface SparseEncoding {
  indices: Int32Array;
  values: Float32Array;
  dims: number;
}

export interface MultiVectorEncoding {
  /** numTokens x tokenDims, row-major. */
  values: Float32Array;
  numTokens: number;
  tokenDims: number;
}

/** What one input encodes to: each requested output the model has. */
export interface EncodedItem {
  dense?: Float32Array;
  sparse?: SparseEncoding;
  multivector?: MultiVectorEncoding;
}

export interface Classification {
  label: string;
  score: number;
}

/** What extraction finds in one text. */
export interface Extraction {
  entities: Entity[];
  classifications: Classification[];
}

/** What families need of a tokenizer (lib/engine/tokenization/text-tokenizer.ts provides it). */
export interface Vocabulary {
  idOf(token: string): number;
  contentIds(text: string): number[];
}

/** A text's content tokens (no special tokens) with their code-point spans. */
export interface TokenizedText {
  ids: number[];
  tokens: string[];
  spans: Array<[number, number]>;
}

export interface EncodeContext {
  /** The outputs the caller asked for (a multi-output model computed only these). */
  outputTypes: ReadonlyArray<OutputType>;
  /** ids[offsets[i]..offsets[i+1]] are the tokens of input i, special tokens included. */
  ids: Int32Array;
  offsets: Int32Array;
  isQuery: boolean;
  vocabulary: Vocabulary;
}

export interface Encoder {
  readonly outputs: OutputType[];
  readonly dims: Partial<Record<OutputType, number>>;
  /** Tokens inserted right after the leading special tokens (ColBERT's query/document markers). */
  markers?(isQuery: boolean, vocabulary: Vocabulary): number[];
  decode(outputs: SequenceOutput[], context: EncodeContext): EncodedItem[];
}

export interface Scorer {
  /** Relevance of each (query, document) pair from the model's output. */
  decode(outputs: SequenceOutput[]): number[];
}

export interface Extractor {
  readonly labels: string[];
  /** Extraction needs each text's tokens and spans, not only a batch. */
  readonly needsTokens: boolean;
  /** Throws INVALID_INPUT naming the first label the model cannot produce. */
  checkLabels(labels: string[], modelId: string): void;
  decode(outputs: SequenceOutput[], texts: ReadonlyArray<string>, tokens: TokenizedText[] | undefined, labels: string[] | undefined): Extraction[];
}

export interface ModelAdapter {
  /** The family's name, as /v1/models reports it. */
  readonly family: string;
  readonly description: NativeModelDescription;
  /** Every weight file the load reads (for the memory estimate before loading). */
  readonly weightFiles: string[];
  readonly vocabSize: number;
  readonly maxSeqLength: number;
  /** One output row per token (ColBERT, token classifiers) rather than per sequence. */
  readonly perTokenOutput: boolean;
  /** sentence-transformers prompts (config_sentence_transformers.json). */
  readonly prompts: Prompts;
  readonly encoder?: Encoder;
  readonly scorer?: Scorer;
  readonly extractor?: Extractor;
  /** Models with a vision tower (CLIP): how their images are preprocessed. */
  readonly images?: ImageInputs;
}

export interface ImageInputs {
  readonly preprocessing: ClipPreprocessing;
  /** The square side the vision tower takes. */
  readonly imageSize: number;
  /** Tokens one image runs through the vision tower (patches + class token): its scheduling cost. */
  readonly tokensPerImage: number;
}

export interface ModelFamily {
  readonly name: string;
  /** An adapter when the checkpoint belongs to this family, otherwise undefined. */
  detect(checkpoint: Checkpoint): ModelAdapter | undefined;
}

export function tasksOf(adapter: ModelAdapter): Task[] {
  return [...(adapter.encoder ? ['encode' as const] : []), ...(adapter.scorer ? ['score' as const] : []), ...(adapter.extractor ? ['extract' as const] : [])];
}
