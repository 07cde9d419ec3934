/**
 * The model a request names, held for the request: HTTP callers name models by id only (never
 * paths, never downloads unless an admin route asks), and an id that could not be one is
 * MODEL_NOT_FOUND before any lookup.
 */
import type { Engine } from '../engine/engine.js';
import type { LoadedModel } from '../engine/loaded-model.js';
import { EngineError } from '../errors/engine-error.js';
import { isSafeModelId } from '../models/model-id.js';

export function checkRequestModelId(id: string): void {
  if (!isSafeModelId(id)) throw new EngineError('MODEL_NOT_FOUND', `model '${id}' does not exist`, { param: 'model' });
}

export async function withRequestModel<T>(engine: Engine, id: string, fn: (model: LoadedModel) => Promise<T>): Promise<T> {
  checkRequestModelId(id);
  return engine.withModel(id, { trusted: false, allowDownload: false }, fn);
}
