/**
 * SPLADE (BertForMaskedLM): sparse term weights, max over tokens of log(1 + relu(logits)),
 * computed natively; indices are vocabulary ids.
 */
import type { ModelAdapter, ModelFamily } from '../model-family.js';
import { isBertCheckpoint, readBertBase } from './bert-encoder.js';

export const bertSplade: ModelFamily = {
  name: 'bert-splade',
  detect(checkpoint): ModelAdapter | undefined {
    if (!isBertCheckpoint(checkpoint) || !checkpoint.architectures.includes('BertForMaskedLM')) return undefined;
    const base = readBertBase(checkpoint);
    const dims = base.shape.vocabSize;
    return base.adapter('splade', {
      head: { kind: 'splade' },
      encoder: {
        outputs: ['sparse'],
        dims: { sparse: dims },
        decode: (outputs) => outputs.map((o) => ({ sparse: { indices: o.indices!, values: o.values, dims } })),
      },
    });
  },
};
