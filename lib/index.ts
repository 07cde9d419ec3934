export { Engine, type EngineOptions, type LoadOptions, type ModelStatus, type ModelState } from './engine/engine.js';
export { EngineError, type EngineErrorCode } from './engine/engine-error.js';
export type { EmbedOptions, EmbedResult, EmbeddingInput, ModelDescription } from './engine/dense-model.js';
export { buildServer, type ServerOptions } from './server/app.js';
