/**
 * ModernBERT rerankers (ModernBertForSequenceClassification with one label, e.g.
 * gte-reranker-modernbert-base): the pair through the encoder, pooled by classifier_pooling
 * ([CLS] or mean), then head.dense -> GELU -> head.norm -> classifier (the native
 * 'modernbert-classifier' head); the score is the sigmoid of the logit, as sentence-transformers'
 * CrossEncoder gives for one label.
 */
import { readLabels } from '../checkpoint.js';
import { readEncoderBase } from '../encoder-base.js';
import type { ModelAdapter, ModelFamily } from '../model-family.js';
import { sigmoid } from '../postprocessing/score-functions.js';
import { refuseUnless } from './rope-encoder.js';

export const modernBertCrossEncoder: ModelFamily = {
  name: 'modernbert-cross-encoder',
  detect(checkpoint): ModelAdapter | undefined {
    const c = checkpoint.config;
    if (c.model_type !== 'modernbert' || !checkpoint.architectures.includes('ModernBertForSequenceClassification')) return undefined;
    if (readLabels(c).length !== 1) return undefined;
    const pooling = c.classifier_pooling ?? 'cls';
    refuseUnless(pooling === 'cls' || pooling === 'mean', `classifier_pooling '${String(pooling)}'`);
    refuseUnless((c.classifier_activation ?? 'gelu') === 'gelu', `classifier_activation '${String(c.classifier_activation)}'`);
    const base = readEncoderBase(checkpoint)!;
    return base.adapter('cross-encoder', {
      head: { kind: 'modernbert-classifier', pooling: pooling as 'cls' | 'mean', outputSize: 1 },
      scorer: { decode: (outputs) => outputs.map((o) => sigmoid(o.values[0])) },
    });
  },
};
