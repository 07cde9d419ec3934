/**
 * Named entities (BertForTokenClassification): softmax per token, BIO labels aggregated into
 * entities with code-point spans, as transformers' pipeline with the "simple" strategy.
 */
import { EngineError } from '../../errors/engine-error.js';
import { readLabels } from '../checkpoint.js';
import type { ModelAdapter, ModelFamily } from '../model-family.js';
import { aggregateBio, entityTypes } from '../postprocessing/entity-aggregation.js';
import { softmax } from '../postprocessing/score-functions.js';
import { encoderArchitectureOf, readBertBase } from './bert-encoder.js';

/** Rows before the first content token: [CLS]. */
const PREFIX_TOKENS = 1;

export const bertTokenClassifier: ModelFamily = {
  name: 'bert-token-classifier',
  detect(checkpoint): ModelAdapter | undefined {
    if (!encoderArchitectureOf(checkpoint) || !checkpoint.architectures.some((a) => a === 'BertForTokenClassification' || a === 'XLMRobertaForTokenClassification')) return undefined;
    const labels = readLabels(checkpoint.config);
    const types = entityTypes(labels);
    const base = readBertBase(checkpoint);
    return base.adapter('token-classifier', {
      head: { kind: 'token-classifier', outputSize: labels.length },
      perTokenOutput: true,
      extractor: {
        labels: [...types],
        needsTokens: true,
        checkLabels(wanted, modelId) {
          const unknown = wanted.find((l) => !types.has(l));
          if (unknown !== undefined) throw new EngineError('INVALID_INPUT', `label '${unknown}' is not an entity type of model ${modelId} (types: ${[...types].join(', ')})`, { param: 'params.labels' });
        },
        decode(outputs, texts, tokens, wanted) {
          return outputs.map((o, i) => {
            const text = tokens![i];
            const count = Math.min(text.ids.length, o.rows - PREFIX_TOKENS - 1);
            const perToken = Array.from({ length: count }, (_, t) => {
              const row = (t + PREFIX_TOKENS) * labels.length;
              const probabilities = softmax(o.values.subarray(row, row + labels.length));
              let best = 0;
              for (let j = 1; j < probabilities.length; j++) if (probabilities[j] > probabilities[best]) best = j;
              return { label: labels[best], score: probabilities[best], span: text.spans[t], continuation: text.tokens[t].startsWith('##') };
            });
            const entities = aggregateBio(texts[i], perToken);
            return { entities: wanted && wanted.length > 0 ? entities.filter((e) => wanted.includes(e.label)) : entities, classifications: [] };
          });
        },
      },
    });
  },
};
