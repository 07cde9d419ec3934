/**
 * The model-family registry: every family sie-server serves, in the order they are tried. The
 * first family whose detect() claims a checkpoint serves it, so specific layouts come before the
 * general ones they would otherwise match (bge-m3's extra heads and ColBERT's projection before
 * plain dense pooling). The BERT adapters serve every BERT-architecture encoder: BERT, RoBERTa
 * and XLM-RoBERTa.
 */
import { EngineError } from '../errors/engine-error.js';
import { readCheckpoint } from './checkpoint.js';
import type { ModelAdapter, ModelFamily } from './model-family.js';
import { bertColbert } from './bert/bert-colbert.js';
import { bertCrossEncoder } from './bert/bert-cross-encoder.js';
import { bertDense } from './bert/bert-dense.js';
import { bertSequenceClassifier } from './bert/bert-sequence-classifier.js';
import { bertSplade } from './bert/bert-splade.js';
import { bertTokenClassifier } from './bert/bert-token-classifier.js';
import { gteNew } from './rope/gte-new.js';
import { modernBert } from './rope/modernbert.js';
import { modernBertCrossEncoder } from './rope/modernbert-cross-encoder.js';
import { qwen3Embedding } from './rope/qwen3-embedding.js';
import { bgeM3 } from './xlm-roberta/bge-m3.js';
import { clip } from './clip/clip.js';

export const MODEL_FAMILIES: readonly ModelFamily[] = [
  bgeM3,
  bertSplade,
  bertCrossEncoder,
  bertSequenceClassifier,
  bertTokenClassifier,
  bertColbert,
  bertDense,
  modernBertCrossEncoder,
  modernBert,
  gteNew,
  qwen3Embedding,
  clip,
];

/** The adapter for the model in `directory`; BAD_CONFIG when no family claims it. */
export function adapterFor(directory: string): ModelAdapter {
  const checkpoint = readCheckpoint(directory);
  for (const family of MODEL_FAMILIES) {
    const adapter = family.detect(checkpoint);
    if (adapter) return adapter;
  }
  const type = checkpoint.config.model_type;
  throw new EngineError('BAD_CONFIG', `config.json: model_type '${String(type)}' (architectures: ${checkpoint.architectures.join(', ') || 'none'}) is not supported (supported: bert, roberta, xlm-roberta, modernbert, new (GTE), qwen3, clip)`);
}

export type * from './model-family.js';
export { tasksOf, OUTPUT_TYPES } from './model-family.js';
