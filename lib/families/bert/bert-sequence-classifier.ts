/**
 * Text classifiers (BertForSequenceClassification with several labels): softmax over the labels,
 * or a sigmoid per label for multi-label models, best first.
 */
import { EngineError } from '../../errors/engine-error.js';
import { readLabels } from '../checkpoint.js';
import type { ModelAdapter, ModelFamily } from '../model-family.js';
import { sigmoid, softmax } from '../postprocessing/score-functions.js';
import { encoderArchitectureOf, isSequenceClassifier, readBertBase } from './bert-encoder.js';

export const bertSequenceClassifier: ModelFamily = {
  name: 'bert-sequence-classifier',
  detect(checkpoint): ModelAdapter | undefined {
    if (!encoderArchitectureOf(checkpoint) || !isSequenceClassifier(checkpoint)) return undefined;
    const labels = readLabels(checkpoint.config);
    if (labels.length < 2) return undefined;
    const multiLabel = checkpoint.config.problem_type === 'multi_label_classification';
    const base = readBertBase(checkpoint);
    return base.adapter('sequence-classifier', {
      head: { kind: 'sequence-classifier', outputSize: labels.length },
      extractor: {
        labels,
        needsTokens: false,
        checkLabels(wanted, modelId) {
          const unknown = wanted.find((l) => !labels.includes(l));
          if (unknown !== undefined) throw new EngineError('INVALID_INPUT', `label '${unknown}' is not a label of model ${modelId} (labels: ${labels.join(', ')})`, { param: 'params.labels' });
        },
        decode(outputs, _texts, _tokens, wanted) {
          return outputs.map((o) => {
            const probabilities = multiLabel ? Array.from(o.values, sigmoid) : softmax(o.values);
            const ranked = labels.map((label, j) => ({ label, score: probabilities[j] })).sort((a, b) => b.score - a.score);
            return { entities: [], classifications: wanted && wanted.length > 0 ? ranked.filter((c) => wanted.includes(c.label)) : ranked };
          });
        },
      },
    });
  },
};
