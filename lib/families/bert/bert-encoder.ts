/**
 * What every adapter of a BERT-architecture encoder shares: BERT itself and the RoBERTa / XLM-R
 * encoders, which are the same blocks with another position rule (positions count non-pad
 * tokens from pad_token_id + 1) and one token type. The shape is read from config.json, refusing
 * what the native encoder does not implement, and wrapped with one head into a native
 * description. Family names say which encoder they run on: bert-dense, xlm-roberta-dense, ...
 */
import type { EncoderShape, NativeHeadOptions, NativeModelDescription } from '../../bindings/native-addon.js';
import { EngineError } from '../../errors/engine-error.js';
import { readMaxSeqLength, weightsPathOf, type Checkpoint } from '../checkpoint.js';
import type { Encoder, Extractor, ModelAdapter, Scorer } from '../model-family.js';
import { readPrompts } from '../prompts.js';

export type EncoderArchitecture = NativeModelDescription['architecture'];

/** The encoder a checkpoint's model_type names, if it is one of the BERT-architecture encoders. */
export function encoderArchitectureOf(checkpoint: Checkpoint): EncoderArchitecture | undefined {
  const type = checkpoint.config.model_type;
  if (type === undefined || type === 'bert') return 'bert';
  if (type === 'xlm-roberta' || type === 'roberta') return 'xlm-roberta';
  return undefined;
}

export function isBertCheckpoint(checkpoint: Checkpoint): boolean {
  return encoderArchitectureOf(checkpoint) === 'bert';
}

/** BertForSequenceClassification and its RoBERTa / XLM-R twins. */
export function isSequenceClassifier(checkpoint: Checkpoint): boolean {
  return checkpoint.architectures.some((a) => ['BertForSequenceClassification', 'XLMRobertaForSequenceClassification', 'RobertaForSequenceClassification'].includes(a));
}

function positiveInt(config: Record<string, unknown>, key: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new EngineError('BAD_CONFIG', `config.json: ${key} must be a positive integer`);
  }
  return value;
}

export function readBertShape(config: Record<string, unknown>, architecture: EncoderArchitecture = 'bert'): EncoderShape {
  const act = config.hidden_act ?? 'gelu';
  if (act !== 'gelu') throw new EngineError('BAD_CONFIG', `config.json: hidden_act '${String(act)}' is not supported (supported: gelu)`);
  const positions = config.position_embedding_type ?? 'absolute';
  if (positions !== 'absolute') {
    throw new EngineError('BAD_CONFIG', `config.json: position_embedding_type '${String(positions)}' is not supported`);
  }
  const eps = config.layer_norm_eps ?? 1e-12;
  if (typeof eps !== 'number' || !(eps > 0)) throw new EngineError('BAD_CONFIG', 'config.json: layer_norm_eps must be a positive number');
  const shape: EncoderShape = {
    hiddenSize: positiveInt(config, 'hidden_size'),
    numLayers: positiveInt(config, 'num_hidden_layers'),
    numHeads: positiveInt(config, 'num_attention_heads'),
    intermediateSize: positiveInt(config, 'intermediate_size'),
    vocabSize: positiveInt(config, 'vocab_size'),
    maxPositions: positiveInt(config, 'max_position_embeddings', 512),
    typeVocabSize: positiveInt(config, 'type_vocab_size', architecture === 'bert' ? 2 : 1),
    layerNormEps: eps,
  };
  if (architecture === 'xlm-roberta') {
    const pad = config.pad_token_id ?? 1;
    if (typeof pad !== 'number' || !Number.isInteger(pad) || pad < 0 || pad + 1 >= shape.maxPositions) {
      throw new EngineError('BAD_CONFIG', 'config.json: pad_token_id must be an integer below max_position_embeddings - 1');
    }
    shape.positionPaddingIdx = pad;
  }
  return shape;
}

/** The longest input the position table allows (XLM-R: max_position_embeddings - pad_token_id - 1, 8192 for bge-m3). */
export function maxInputLength(shape: EncoderShape): number {
  return shape.positionPaddingIdx === undefined ? shape.maxPositions : shape.maxPositions - shape.positionPaddingIdx - 1;
}

/** What an adapter adds to the shared encoder: its head and what it answers. */
export interface BertHeadParts {
  head: NativeHeadOptions;
  perTokenOutput?: boolean;
  /** Weight files besides the encoder's (ColBERT's projection, bge-m3's heads). */
  extraWeightFiles?: string[];
  encoder?: Encoder;
  scorer?: Scorer;
  extractor?: Extractor;
}

/** The parts of an adapter that do not depend on its head. */
export interface BertBase {
  architecture: EncoderArchitecture;
  shape: EncoderShape;
  /** `kind` names the head: the family reported is `${architecture}-${kind}`. */
  adapter(kind: string, parts: BertHeadParts): ModelAdapter;
}

export function readBertBase(checkpoint: Checkpoint): BertBase {
  const architecture = encoderArchitectureOf(checkpoint);
  if (!architecture) throw new EngineError('BAD_CONFIG', `config.json: model_type '${String(checkpoint.config.model_type)}' is not a BERT-architecture encoder`);
  return encoderBase(checkpoint, architecture, readBertShape(checkpoint.config, architecture));
}

/** The shared part of adapters for any encoder whose shape is known (ModernBERT's heads use it too). */
export function encoderBase(checkpoint: Checkpoint, architecture: EncoderArchitecture, shape: EncoderShape): BertBase {
  const weightsPath = weightsPathOf(checkpoint);
  const maxSeqLength = readMaxSeqLength(checkpoint, maxInputLength(shape));
  const prompts = readPrompts(checkpoint);
  return {
    architecture,
    shape,
    adapter: (kind, { head, perTokenOutput = false, extraWeightFiles = [], ...answers }) => ({
      family: `${architecture}-${kind}`,
      description: { architecture, weightsPath, encoder: shape, head },
      weightFiles: [weightsPath, ...extraWeightFiles],
      vocabSize: shape.vocabSize,
      maxSeqLength,
      perTokenOutput,
      prompts,
      ...answers,
    }),
  };
}
