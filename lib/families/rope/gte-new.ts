/**
 * Alibaba's NewModel (gte-base-en-v1.5, gte-large-en-v1.5; remote code "new-impl"): BERT-like
 * post-norm layers with rotary positions (rope_theta, NTK rope_scaling applied at every length as
 * the remote code's init-time cache does), fused qkv_proj with bias, GeGLU on the second half of
 * up_gate_proj, token types.
 */
import type { ModelAdapter, ModelFamily } from '../model-family.js';
import { configInt, configNumber, refuseUnless, rotaryDenseAdapter } from './rope-encoder.js';

export const gteNew: ModelFamily = {
  name: 'gte-new',
  detect(checkpoint): ModelAdapter | undefined {
    const c = checkpoint.config;
    if (c.model_type !== 'new' && !checkpoint.architectures.includes('NewModel')) return undefined;
    refuseUnless((c.position_embedding_type ?? 'rope') === 'rope', `position_embedding_type '${String(c.position_embedding_type)}'`);
    refuseUnless((c.hidden_act ?? 'gelu') === 'gelu', `hidden_act '${String(c.hidden_act)}'`);
    refuseUnless((c.layer_norm_type ?? 'layer_norm') === 'layer_norm', `layer_norm_type '${String(c.layer_norm_type)}'`);
    refuseUnless(c.pack_qkv !== false, 'pack_qkv false');
    refuseUnless(!c.logn_attention_scale, 'logn_attention_scale');
    const scaling = c.rope_scaling as { type?: string; factor?: number; mixed_b?: number } | null | undefined;
    refuseUnless(!scaling || (scaling.type === 'ntk' && typeof scaling.factor === 'number' && scaling.factor > 0 && scaling.mixed_b === undefined), `rope_scaling ${JSON.stringify(scaling)}`);
    const typeVocab = typeof c.type_vocab_size === 'number' ? c.type_vocab_size : 0;
    return rotaryDenseAdapter(checkpoint, 'gte-new-dense', 'gte-new', {
      hiddenSize: configInt(c, 'hidden_size'),
      numLayers: configInt(c, 'num_hidden_layers'),
      numHeads: configInt(c, 'num_attention_heads'),
      intermediateSize: configInt(c, 'intermediate_size'),
      vocabSize: configInt(c, 'vocab_size'),
      maxPositions: configInt(c, 'max_position_embeddings', 8192),
      typeVocabSize: Math.max(1, typeVocab),
      layerNormEps: configNumber(c, 'layer_norm_eps', 1e-12),
      ropeTheta: configNumber(c, 'rope_theta', 10000),
      ...(scaling ? { ropeNtkFactor: scaling.factor } : {}),
      hiddenAct: 'gelu',
    });
  },
};
