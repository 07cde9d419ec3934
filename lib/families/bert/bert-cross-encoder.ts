/** Cross-encoders (BertForSequenceClassification or XLMRobertaForSequenceClassification with one label, e.g. bge-reranker-v2-m3): sigmoid of the pair's logit, as sentence-transformers' CrossEncoder. */
import type { ModelAdapter, ModelFamily } from '../model-family.js';
import { readLabels } from '../checkpoint.js';
import { sigmoid } from '../postprocessing/score-functions.js';
import { encoderArchitectureOf, isSequenceClassifier, readBertBase } from './bert-encoder.js';

export const bertCrossEncoder: ModelFamily = {
  name: 'bert-cross-encoder',
  detect(checkpoint): ModelAdapter | undefined {
    if (!encoderArchitectureOf(checkpoint) || !isSequenceClassifier(checkpoint)) return undefined;
    if (readLabels(checkpoint.config).length !== 1) return undefined;
    const base = readBertBase(checkpoint);
    return base.adapter('cross-encoder', {
      head: { kind: 'sequence-classifier', outputSize: 1 },
      scorer: { decode: (outputs) => outputs.map((o) => sigmoid(o.values[0])) },
    });
  },
};
