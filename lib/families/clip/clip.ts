/**
 * CLIP (`CLIPModel`, e.g. openai/clip-vit-base-patch32): text and images into one space. The text
 * tower is the native encoder ('clip': token + position embeddings, causal pre-LN blocks,
 * final_layer_norm) with the 'clip-text' head (pooled at the end-of-text token: the largest id
 * for legacy configs whose eos_token_id is 2, else the first eos_token_id, as transformers does;
 * text_projection); the vision tower runs preprocessed images (model.runImages). Both
 * L2-normalised, as SIE's CLIP adapter and Infinity return them. Texts stop at 77 tokens.
 */
import type { NativeModelDescription, VisionTowerShape } from '../../bindings/native-addon.js';
import { readClipPreprocessing } from '../../images/clip-preprocessor.js';
import { weightsPathOf } from '../checkpoint.js';
import type { ModelAdapter, ModelFamily } from '../model-family.js';
import { configInt, configNumber, refuseUnless } from '../rope/rope-encoder.js';

type Config = Record<string, unknown>;

function activation(config: Config): 'quick_gelu' | 'gelu' {
  const act = config.hidden_act ?? 'quick_gelu';
  refuseUnless(act === 'quick_gelu' || act === 'gelu', `hidden_act '${String(act)}'`);
  return act as 'quick_gelu' | 'gelu';
}

export const clip: ModelFamily = {
  name: 'clip',
  detect(checkpoint): ModelAdapter | undefined {
    const c = checkpoint.config;
    if (c.model_type !== 'clip' && !checkpoint.architectures.includes('CLIPModel')) return undefined;
    const text = (c.text_config ?? {}) as Config;
    const vision = (c.vision_config ?? {}) as Config;
    const projection = configInt(c, 'projection_dim', 512);
    const eos = text.eos_token_id ?? 2;
    const encoder = {
      hiddenSize: configInt(text, 'hidden_size', 512),
      numLayers: configInt(text, 'num_hidden_layers', 12),
      numHeads: configInt(text, 'num_attention_heads', 8),
      intermediateSize: configInt(text, 'intermediate_size', 2048),
      vocabSize: configInt(text, 'vocab_size', 49408),
      maxPositions: configInt(text, 'max_position_embeddings', 77),
      typeVocabSize: 1,
      layerNormEps: configNumber(text, 'layer_norm_eps', 1e-5),
      hiddenAct: activation(text),
    };
    const visionShape: VisionTowerShape = {
      hiddenSize: configInt(vision, 'hidden_size', 768),
      numLayers: configInt(vision, 'num_hidden_layers', 12),
      numHeads: configInt(vision, 'num_attention_heads', 12),
      intermediateSize: configInt(vision, 'intermediate_size', 3072),
      imageSize: configInt(vision, 'image_size', 224),
      patchSize: configInt(vision, 'patch_size', 32),
      layerNormEps: configNumber(vision, 'layer_norm_eps', 1e-5),
      hiddenAct: activation(vision),
    };
    const weightsPath = weightsPathOf(checkpoint);
    const description: NativeModelDescription = {
      architecture: 'clip',
      weightsPath,
      encoder,
      vision: visionShape,
      // transformers' CLIPTextTransformer: eos_token_id 2 is the legacy config, pooled by argmax.
      head: { kind: 'clip-text', outputSize: projection, normalize: true, ...(eos === 2 ? {} : { poolTokenId: configInt(text, 'eos_token_id') }) },
    };
    const preprocessing = readClipPreprocessing(checkpoint.directory);
    refuseUnless(!preprocessing.crop || (preprocessing.crop.width === visionShape.imageSize && preprocessing.crop.height === visionShape.imageSize),
      'a crop_size other than the vision tower\'s image_size');
    return {
      family: 'clip',
      description,
      weightFiles: [weightsPath],
      vocabSize: encoder.vocabSize,
      maxSeqLength: encoder.maxPositions,
      perTokenOutput: false,
      prompts: {},
      encoder: { outputs: ['dense'], dims: { dense: projection }, decode: (outputs) => outputs.map((o) => ({ dense: o.values })) },
      images: { preprocessing, imageSize: visionShape.imageSize, tokensPerImage: (Math.floor(visionShape.imageSize / visionShape.patchSize) ** 2) + 1 },
    };
  },
};
