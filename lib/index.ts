export { Engine, type EngineOptions, type LoadOptions, type ModelStatus, type ModelState } from './engine/engine.js';
export { EngineError, type EngineErrorCode } from './engine/engine-error.js';
export type { EmbedOptions, EmbedResult, EmbeddingInput, ModelDescription, EncodeOptions, EncodedItem, OutputType, Classification, Entity } from './engine/loaded-model.js';
export { LoadedModel } from './engine/loaded-model.js';
export { buildServer, type ServerOptions } from './server/app.js';
export { ServerMetrics } from './server/server-metrics.js';
