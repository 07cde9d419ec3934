/**
 * What every BERT-family adapter shares: the encoder shape read from config.json (refusing what
 * the native BERT encoder does not implement) and the native description around one head.
 */
import type { EncoderShape, NativeHeadOptions } from '../../bindings/native-addon.js';
import { EngineError } from '../../errors/engine-error.js';
import { readMaxSeqLength, weightsPathOf, type Checkpoint } from '../checkpoint.js';
import type { Encoder, Extractor, ModelAdapter, Scorer } from '../model-family.js';

export function isBertCheckpoint(checkpoint: Checkpoint): boolean {
  const type = checkpoint.config.model_type;
  return type === undefined || type === 'bert';
}

function positiveInt(config: Record<string, unknown>, key: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new EngineError('BAD_CONFIG', `config.json: ${key} must be a positive integer`);
  }
  return value;
}

export function readBertShape(config: Record<string, unknown>): EncoderShape {
  const act = config.hidden_act ?? 'gelu';
  if (act !== 'gelu') throw new EngineError('BAD_CONFIG', `config.json: hidden_act '${String(act)}' is not supported (supported: gelu)`);
  const positions = config.position_embedding_type ?? 'absolute';
  if (positions !== 'absolute') {
    throw new EngineError('BAD_CONFIG', `config.json: position_embedding_type '${String(positions)}' is not supported`);
  }
  const eps = config.layer_norm_eps ?? 1e-12;
  if (typeof eps !== 'number' || !(eps > 0)) throw new EngineError('BAD_CONFIG', 'config.json: layer_norm_eps must be a positive number');
  return {
    hiddenSize: positiveInt(config, 'hidden_size'),
    numLayers: positiveInt(config, 'num_hidden_layers'),
    numHeads: positiveInt(config, 'num_attention_heads'),
    intermediateSize: positiveInt(config, 'intermediate_size'),
    vocabSize: positiveInt(config, 'vocab_size'),
    maxPositions: positiveInt(config, 'max_position_embeddings', 512),
    typeVocabSize: positiveInt(config, 'type_vocab_size', 2),
    layerNormEps: eps,
  };
}

/** What a BERT adapter adds to the shared encoder: its head and what it answers. */
export interface BertHeadParts {
  head: NativeHeadOptions;
  perTokenOutput?: boolean;
  /** Weight files besides the encoder's (ColBERT's projection). */
  extraWeightFiles?: string[];
  encoder?: Encoder;
  scorer?: Scorer;
  extractor?: Extractor;
}

/** The parts of a BERT adapter that do not depend on its head. */
export interface BertBase {
  shape: EncoderShape;
  adapter(family: string, parts: BertHeadParts): ModelAdapter;
}

export function readBertBase(checkpoint: Checkpoint): BertBase {
  const shape = readBertShape(checkpoint.config);
  const weightsPath = weightsPathOf(checkpoint);
  const maxSeqLength = readMaxSeqLength(checkpoint, shape.maxPositions);
  return {
    shape,
    adapter: (family, { head, perTokenOutput = false, extraWeightFiles = [], ...answers }) => ({
      family,
      description: { architecture: 'bert', weightsPath, encoder: shape, head },
      weightFiles: [weightsPath, ...extraWeightFiles],
      vocabSize: shape.vocabSize,
      maxSeqLength,
      perTokenOutput,
      ...answers,
    }),
  };
}
