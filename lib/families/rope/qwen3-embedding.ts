/**
 * Qwen3-Embedding (a Qwen3 decoder used as an embedder): RMSNorm, grouped-query attention with
 * per-head q_norm / k_norm before the rotary embedding, SwiGLU, causal attention, last-token
 * pooling of the <|endoftext|> the tokenizer appends, then L2 normalisation. Padding-free, so no
 * left-padding arithmetic: positions are 0..len-1 per sequence. Instruction prompts come from
 * config_sentence_transformers.json.
 */
import type { ModelAdapter, ModelFamily } from '../model-family.js';
import { configInt, configNumber, refuseUnless, rotaryDenseAdapter } from './rope-encoder.js';

export const qwen3Embedding: ModelFamily = {
  name: 'qwen3-embedding',
  detect(checkpoint): ModelAdapter | undefined {
    const c = checkpoint.config;
    if (c.model_type !== 'qwen3') return undefined;
    refuseUnless((c.hidden_act ?? 'silu') === 'silu', `hidden_act '${String(c.hidden_act)}'`);
    refuseUnless(!c.use_sliding_window, 'use_sliding_window');
    refuseUnless(c.rope_scaling === undefined || c.rope_scaling === null, `rope_scaling ${JSON.stringify(c.rope_scaling)}`);
    const heads = configInt(c, 'num_attention_heads');
    const hidden = configInt(c, 'hidden_size');
    return rotaryDenseAdapter(checkpoint, 'qwen3-embedding', 'qwen3', {
      hiddenSize: hidden,
      numLayers: configInt(c, 'num_hidden_layers'),
      numHeads: heads,
      numKvHeads: configInt(c, 'num_key_value_heads', heads),
      headDim: configInt(c, 'head_dim', hidden / heads),
      intermediateSize: configInt(c, 'intermediate_size'),
      vocabSize: configInt(c, 'vocab_size'),
      maxPositions: configInt(c, 'max_position_embeddings', 32768),
      typeVocabSize: 1,
      layerNormEps: configNumber(c, 'rms_norm_eps', 1e-6),
      ropeTheta: configNumber(c, 'rope_theta', 10000),
      causal: true,
      hiddenAct: 'silu',
    });
  },
};
