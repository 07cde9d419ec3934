/** The SDK's options and results, shaped as SIE's TypeScript SDK shapes them. */
import type { OutputDtype, OutputType } from '../server/wire/sie-api-types.js';
import type { NumericArray } from './msgpack-numpy.js';

export interface SIEClientOptions {
  /** Request timeout in milliseconds (default 30000). */
  timeout?: number;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Retry any 503 (not only MODEL_LOADING) until provisionTimeout. */
  waitForCapacity?: boolean;
  /** How long retries may go on, in milliseconds (default 300000). */
  provisionTimeout?: number;
  /** Accepted for compatibility; a single server has no GPU pools. */
  gpu?: string;
}

export interface EncodeOptions {
  outputTypes?: OutputType[];
  instruction?: string;
  isQuery?: boolean;
  outputDtype?: OutputDtype;
  gpu?: string;
  waitForCapacity?: boolean;
}

export interface ScoreOptions {
  gpu?: string;
  waitForCapacity?: boolean;
}

export interface ExtractOptions {
  labels: string[];
  threshold?: number;
  gpu?: string;
  waitForCapacity?: boolean;
}

export interface TimingInfo {
  totalMs?: number;
  queueMs?: number;
  tokenizationMs?: number;
  inferenceMs?: number;
}

export interface EncodeResult {
  id?: string;
  /** Float32Array; Int8Array / Uint8Array for int8, uint8, binary and ubinary. */
  dense?: NumericArray;
  sparse?: { indices: Int32Array; values: NumericArray };
  /** One array per token. */
  multivector?: NumericArray[];
  timing?: TimingInfo;
}

export interface ScoreEntry {
  itemId: string;
  score: number;
  rank: number;
}

export interface ScoreResult {
  model?: string;
  queryId?: string;
  scores: ScoreEntry[];
}

export interface Entity {
  text: string;
  label: string;
  score: number;
  start?: number;
  end?: number;
  bbox?: number[];
}

export interface ExtractResult {
  id?: string;
  entities: Entity[];
  relations: unknown[];
  classifications: Array<{ label: string; score: number }>;
  objects: unknown[];
}

export interface ModelInfo {
  name: string;
  loaded: boolean;
  inputs: string[];
  outputs: string[];
  dims?: Record<string, number>;
  maxSequenceLength?: number;
}
