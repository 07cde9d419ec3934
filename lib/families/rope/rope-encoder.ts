/**
 * What the rotary-encoder families share (ModernBERT, GTE NewModel, Qwen3): reading config.json
 * values strictly, and the dense adapter around the native rotary encoder with the
 * sentence-transformers pooling (CLS, mean or last token) and optional Normalize.
 */
import type { EncoderShape, NativeModelDescription } from '../../bindings/native-addon.js';
import { EngineError } from '../../errors/engine-error.js';
import { readMaxSeqLength, readPooling, weightsPathOf, type Checkpoint } from '../checkpoint.js';
import type { ModelAdapter } from '../model-family.js';
import { readPrompts } from '../prompts.js';

export function configInt(config: Record<string, unknown>, key: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new EngineError('BAD_CONFIG', `config.json: ${key} must be a positive integer`);
  return value;
}

export function configNumber(config: Record<string, unknown>, key: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== 'number' || !(value > 0)) throw new EngineError('BAD_CONFIG', `config.json: ${key} must be a positive number`);
  return value;
}

/** Refuses a config value the native encoder does not implement, naming it. */
export function refuseUnless(ok: boolean, what: string): void {
  if (!ok) throw new EngineError('BAD_CONFIG', `config.json: ${what} is not supported`);
}

/** A dense sentence-embedding adapter on a rotary encoder. */
export function rotaryDenseAdapter(checkpoint: Checkpoint, family: string, architecture: NativeModelDescription['architecture'], shape: EncoderShape): ModelAdapter {
  const weightsPath = weightsPathOf(checkpoint);
  const { pooling, normalize } = readPooling(checkpoint);
  const dims = shape.hiddenSize;
  return {
    family,
    description: { architecture, weightsPath, encoder: shape, head: { kind: 'pooled', pooling, normalize } },
    weightFiles: [weightsPath],
    vocabSize: shape.vocabSize,
    maxSeqLength: readMaxSeqLength(checkpoint, shape.maxPositions),
    perTokenOutput: false,
    prompts: readPrompts(checkpoint),
    encoder: { outputs: ['dense'], dims: { dense: dims }, decode: (outputs) => outputs.map((o) => ({ dense: o.values })) },
  };
}
