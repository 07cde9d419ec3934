export { Engine, type EngineOptions, type LoadOptions, type ModelStatus, type ModelState, type Lease } from './engine/engine.js';
export { EngineError, type EngineErrorCode } from './errors/engine-error.js';
export { ERROR_CODES } from './errors/error-codes.js';
export type {
  EmbedOptions, EmbedResult, EmbeddingInput, ModelDescription, ModelEncodeOptions, ExtractOptions, Timing,
  EncodedItem, Extraction, OutputType, Task, Classification, Entity, SparseEncoding, MultiVectorEncoding,
} from './engine/loaded-model.js';
export { LoadedModel } from './engine/loaded-model.js';
export { MODEL_FAMILIES, adapterFor } from './families/index.js';
export type { ModelFamily, ModelAdapter } from './families/index.js';
export { buildServer, type ServerOptions } from './server/app.js';
export { ServerMetrics } from './server/server-metrics.js';
