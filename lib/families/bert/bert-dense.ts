/**
 * Sentence embeddings (BertModel + sentence-transformers Pooling [+ Normalize]): one dense
 * vector per input, pooled natively (mean / CLS / last token) and normalised when the pipeline
 * says so.
 */
import { readPooling } from '../checkpoint.js';
import type { ModelAdapter, ModelFamily } from '../model-family.js';
import { encoderArchitectureOf, readBertBase } from './bert-encoder.js';

export const bertDense: ModelFamily = {
  name: 'bert-dense',
  detect(checkpoint): ModelAdapter | undefined {
    if (!encoderArchitectureOf(checkpoint)) return undefined;
    const base = readBertBase(checkpoint);
    const { pooling, normalize } = readPooling(checkpoint);
    const dims = base.shape.hiddenSize;
    return base.adapter('dense', {
      head: { kind: 'pooled', pooling, normalize },
      encoder: {
        outputs: ['dense'],
        dims: { dense: dims },
        decode: (outputs) => outputs.map((o) => ({ dense: o.values })),
      },
    });
  },
};
