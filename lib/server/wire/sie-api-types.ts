/**
 * Request and response shapes of SIE's native API on the wire (SIE 0.3.1's OpenAPI document),
 * shared by the server routes and the SIEClient SDK (type-only, so the SDK carries no server
 * code) so the two cannot drift apart.
 */
import type { OutputType } from '../../families/model-family.js';
import type { NumpyArray } from './numpy-array.js';
import type { ModelState as EngineModelState } from '../../engine/registry/model-registry.js';

export type { OutputType } from '../../families/model-family.js';
export type OutputDtype = 'float32' | 'float16' | 'int8' | 'uint8' | 'binary' | 'ubinary';
/** The engine's states plus SIE's `available` (known, not loaded). */
export type ModelState = EngineModelState | 'available';

export interface ImageInput {
  data: Uint8Array | string;
  format?: string;
}

export interface Item {
  id?: string | null;
  text?: string | null;
  images?: ImageInput[] | null;
  metadata?: Record<string, unknown> | null;
}

export interface EncodeParams {
  output_types?: OutputType[] | null;
  instruction?: string | null;
  output_dtype?: OutputDtype | null;
  options?: { is_query?: boolean; [key: string]: unknown } | null;
  /** SIE's TS SDK sends is_query here; SIE itself ignores it, we honour both places. */
  is_query?: boolean;
}

export interface EncodeRequest {
  items: Item[];
  params?: EncodeParams | null;
}

/** Arrays travel as numpy arrays (msgpack-numpy) in msgpack and as lists in JSON. */
export type WireArray = NumpyArray;

export interface DenseVector {
  dims: number;
  dtype: OutputDtype;
  values: WireArray;
}

export interface SparseVector {
  dims?: number | null;
  dtype: 'float32' | 'float16';
  indices: WireArray;
  values: WireArray;
}

export interface MultiVector {
  token_dims: number;
  num_tokens: number;
  dtype: OutputDtype;
  /** num_tokens x token_dims. */
  values: WireArray;
}

export interface EncodeResult {
  id?: string | null;
  metadata?: Record<string, unknown> | null;
  dense?: DenseVector;
  sparse?: SparseVector;
  multivector?: MultiVector;
}

export interface TimingInfo {
  total_ms: number;
  queue_ms: number;
  tokenization_ms: number;
  inference_ms: number;
  postprocessing_ms?: number | null;
}

export interface EncodeResponse {
  model: string;
  items: EncodeResult[];
  timing?: TimingInfo | null;
}

export interface ScoreRequest {
  query: Item;
  items: Item[];
  instruction?: string | null;
}

export interface ScoreEntry {
  item_id: string;
  score: number;
  rank: number;
}

export interface ScoreResponse {
  model: string;
  query_id?: string | null;
  scores: ScoreEntry[];
}

export interface ExtractParams {
  labels?: string[] | null;
  /** Minimum score of a returned entity or classification (SIE's TypeScript SDK sends it). */
  threshold?: number | null;
  output_schema?: Record<string, unknown> | null;
  instruction?: string | null;
  options?: Record<string, unknown> | null;
}

export interface ExtractRequest {
  items: Item[];
  params?: ExtractParams | null;
}

export interface EntityResult {
  text: string;
  label: string;
  score: number;
  start?: number | null;
  end?: number | null;
}

export interface ClassificationResult {
  label: string;
  score: number;
}

export interface ExtractResult {
  id: string;
  entities: EntityResult[];
  relations: unknown[];
  classifications: ClassificationResult[];
  data: Record<string, unknown>;
}

export interface ExtractResponse {
  model: string;
  items: ExtractResult[];
}

export interface ModelLoadError {
  code: string;
  message: string;
  attempts: number;
  permanent: boolean;
}

export interface ModelInfo {
  name: string;
  inputs: string[];
  outputs: string[];
  dims: Record<string, number>;
  loaded: boolean;
  state: ModelState;
  last_error?: ModelLoadError | null;
  max_sequence_length?: number | null;
  /** sie-server: the weight dtype a loaded model computes in (fp32, or bf16 past the fidelity gate). */
  dtype?: 'fp32' | 'fp16' | 'bf16' | 'bf16x3' | 'bf16x3q';
}

export interface ModelsListResponse {
  models: ModelInfo[];
}

/** SIE's error body: `{"detail": {"code", "message"}}`. */
export interface ErrorDetail {
  code: string;
  message: string;
}
