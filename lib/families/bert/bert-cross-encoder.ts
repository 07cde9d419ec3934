/** Cross-encoders (BertForSequenceClassification with one label): sigmoid of the pair's logit, as sentence-transformers' CrossEncoder. */
import type { ModelAdapter, ModelFamily } from '../model-family.js';
import { readLabels } from '../checkpoint.js';
import { sigmoid } from '../postprocessing/score-functions.js';
import { isBertCheckpoint, readBertBase } from './bert-encoder.js';

export const bertCrossEncoder: ModelFamily = {
  name: 'bert-cross-encoder',
  detect(checkpoint): ModelAdapter | undefined {
    if (!isBertCheckpoint(checkpoint) || !checkpoint.architectures.includes('BertForSequenceClassification')) return undefined;
    if (readLabels(checkpoint.config).length !== 1) return undefined;
    const base = readBertBase(checkpoint);
    return base.adapter('bert-cross-encoder', {
      head: { kind: 'sequence-classifier', outputSize: 1 },
      scorer: { decode: (outputs) => outputs.map((o) => sigmoid(o.values[0])) },
    });
  },
};
