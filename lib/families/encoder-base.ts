/**
 * The encoders that heads other than pooling can sit on: the BERT architectures (BERT, RoBERTa,
 * XLM-R) and ModernBERT. Families of one head (ColBERT, rerankers) ask here, so the same head
 * serves every encoder the native engine runs with that head.
 */
import { encoderArchitectureOf, encoderBase, readBertBase, type BertBase } from './bert/bert-encoder.js';
import type { Checkpoint } from './checkpoint.js';
import { readModernBertShape } from './rope/modernbert.js';

export function readEncoderBase(checkpoint: Checkpoint): BertBase | undefined {
  if (encoderArchitectureOf(checkpoint)) return readBertBase(checkpoint);
  if (checkpoint.config.model_type === 'modernbert') return encoderBase(checkpoint, 'modernbert', readModernBertShape(checkpoint));
  return undefined;
}
