/**
 * ModernBERT encoders (gte-modernbert-base, modernbert-embed-base): token embeddings + LayerNorm
 * without bias, pre-norm layers (layer 0 without an attention norm), fused Wqkv, rotary positions
 * with a global and a local theta, sliding-window attention (|i - j| <= local_attention / 2) in
 * every layer but each global_attn_every_n_layers-th, GeGLU on the first half of Wi, final norm.
 * Reads both config layouts: the Hub's (global_rope_theta, local_rope_theta) and transformers 5's
 * (layer_types, rope_parameters). Rerankers (modernbert-cross-encoder.ts) and PyLate ColBERT
 * checkpoints (bert/bert-colbert.ts) on the same encoder are their own families, tried first.
 */
import type { EncoderShape } from '../../bindings/native-addon.js';
import type { Checkpoint } from '../checkpoint.js';
import type { ModelAdapter, ModelFamily } from '../model-family.js';
import { configInt, configNumber, refuseUnless, rotaryDenseAdapter } from './rope-encoder.js';

/** ModernBERT's encoder shape from config.json, refusing what the native encoder lacks. */
export function readModernBertShape(checkpoint: Checkpoint): EncoderShape {
  const c = checkpoint.config;
  const act = c.hidden_activation ?? 'gelu';
  refuseUnless(act === 'gelu', `hidden_activation '${String(act)}'`);
  const ropeParameters = (c.rope_parameters ?? {}) as Record<string, { rope_theta?: number } | undefined>;
  const globalTheta = ropeParameters.full_attention?.rope_theta ?? configNumber(c, 'global_rope_theta', 160000);
  const localTheta = ropeParameters.sliding_attention?.rope_theta ?? (c.local_rope_theta === null ? globalTheta : configNumber(c, 'local_rope_theta', 10000));
  const layers = configInt(c, 'num_hidden_layers');
  const every = configInt(c, 'global_attn_every_n_layers', 3);
  if (Array.isArray(c.layer_types)) {
    // transformers 5 lists each layer's kind; it must match the every-n rule the native encoder uses.
    const expected = Array.from({ length: layers }, (_, i) => (i % every === 0 ? 'full_attention' : 'sliding_attention'));
    refuseUnless(JSON.stringify(c.layer_types) === JSON.stringify(expected), 'layer_types other than every global_attn_every_n_layers-th global');
  }
  return {
    hiddenSize: configInt(c, 'hidden_size'),
    numLayers: layers,
    numHeads: configInt(c, 'num_attention_heads'),
    intermediateSize: configInt(c, 'intermediate_size'),
    vocabSize: configInt(c, 'vocab_size'),
    maxPositions: configInt(c, 'max_position_embeddings', 8192),
    typeVocabSize: 1,
    layerNormEps: configNumber(c, 'norm_eps', 1e-5),
    ropeTheta: globalTheta,
    localRopeTheta: localTheta,
    globalAttnEveryNLayers: every,
    localAttention: configInt(c, 'local_attention', 128),
    hiddenAct: 'gelu',
  };
}

export const modernBert: ModelFamily = {
  name: 'modernbert',
  detect(checkpoint): ModelAdapter | undefined {
    if (checkpoint.config.model_type !== 'modernbert') return undefined;
    return rotaryDenseAdapter(checkpoint, 'modernbert-dense', 'modernbert', readModernBertShape(checkpoint));
  },
};
