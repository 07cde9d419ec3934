/**
 * Exports CLIP's vision tower (a CLIPModel checkpoint, F32 safetensors) to an ONNX graph of
 * standard ops (opset 17) for onnxruntime-node, the peer of the image benchmark: input
 * pixel_values [batch, 3, size, size] float32 (preprocessed), output image_embeds [batch,
 * projection], L2-normalised. The HF CLIPVisionTransformer's arithmetic: Conv patch embedding
 * without bias, class token, position embeddings, pre_layrnorm, pre-LN blocks (q scaled after
 * its bias, quick_gelu or GELU), post_layernorm of the class token, visual_projection.
 *
 *   node dist/bench/export-clip-vision-onnx.js MODEL_DIR OUT.onnx
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeModel, GraphBuilder, readSafetensors, valueInfo } from './onnx-graph.js';

export function exportClipVisionOnnx(modelDir: string, out: string): void {
  const config = JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as Record<string, any>;
  const v = config.vision_config as Record<string, any>;
  const get = readSafetensors(path.join(modelDir, 'model.safetensors'));
  const g = new GraphBuilder();
  const H: number = v.hidden_size, heads: number = v.num_attention_heads, d = H / heads, layers: number = v.num_hidden_layers;
  const patch: number = v.patch_size, grid = v.image_size / patch, tokens = grid * grid + 1;
  const eps: number = v.layer_norm_eps ?? 1e-5;
  const quick = (v.hidden_act ?? 'quick_gelu') === 'quick_gelu';
  const vec = (name: string) => g.tensor(name, get(name).data, [get(name).shape[0]]);
  const layerNorm = (x: string, name: string) => g.op('LayerNormalization', [x, vec(`${name}.weight`), vec(`${name}.bias`)], { axis: -1, epsilon: eps });
  const linear = (x: string, name: string, bias = true) => {
    const y = g.op('MatMul', [x, g.transposed(`${name}.weight`, get(`${name}.weight`))]);
    return bias ? g.op('Add', [y, vec(`${name}.bias`)]) : y;
  };
  const act = (x: string) => (quick
    ? g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, g.scalar(1.702)])])])
    : g.op('Mul', [g.op('Mul', [x, g.scalar(0.5)]), g.op('Add', [g.op('Erf', [g.op('Mul', [x, g.scalar(Math.SQRT1_2)])]), g.scalar(1)])]));
  const toHeads = (x: string) => g.op('Transpose', [g.op('Reshape', [x, g.ints([0, 0, heads, d])])], { perm: [0, 2, 1, 3] });

  const conv = get('vision_model.embeddings.patch_embedding.weight');
  const patches = g.op('Conv', ['pixel_values', g.tensor('patch.w', conv.data, conv.shape)], { kernel_shape: [patch, patch], strides: [patch, patch] });
  const sequence = g.op('Transpose', [g.op('Reshape', [patches, g.ints([0, H, grid * grid])])], { perm: [0, 2, 1] });  // [B, P, H]
  const batch = g.op('Slice', [g.op('Shape', ['pixel_values']), g.ints([0]), g.ints([1])]);
  const cls = g.op('Expand', [g.tensor('cls', get('vision_model.embeddings.class_embedding').data, [1, 1, H]), g.op('Concat', [batch, g.ints([1, H])], { axis: 0 })]);
  const position = get('vision_model.embeddings.position_embedding.weight');
  let x = g.op('Add', [g.op('Concat', [cls, sequence], { axis: 1 }), g.tensor('positions', position.data, [tokens, H])]);
  x = layerNorm(x, 'vision_model.pre_layrnorm');
  for (let l = 0; l < layers; l++) {
    const p = `vision_model.encoder.layers.${l}.`;
    const h = layerNorm(x, `${p}layer_norm1`);
    const q = toHeads(g.op('Mul', [linear(h, `${p}self_attn.q_proj`), g.scalar(1 / Math.sqrt(d))]));
    const k = toHeads(linear(h, `${p}self_attn.k_proj`));
    const val = toHeads(linear(h, `${p}self_attn.v_proj`));
    const weights = g.op('Softmax', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })])], { axis: -1 });
    const context = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [weights, val])], { perm: [0, 2, 1, 3] }), g.ints([0, 0, H])]);
    x = g.op('Add', [x, linear(context, `${p}self_attn.out_proj`)]);
    x = g.op('Add', [x, linear(act(linear(layerNorm(x, `${p}layer_norm2`), `${p}mlp.fc1`)), `${p}mlp.fc2`)]);
  }
  const pooled = layerNorm(g.op('Gather', [x, g.int64Scalar(0)], { axis: 1 }), 'vision_model.post_layernorm');
  const embeds = linear(pooled, 'visual_projection', false);
  g.identity(g.op('Div', [embeds, g.op('ReduceL2', [embeds], { axes: [-1], keepdims: 1 })]), 'image_embeds');
  writeFileSync(out, encodeModel({ name: 'clip-vision', nodes: g.nodes, initializers: g.initializers,
    inputs: [valueInfo('pixel_values', 1, ['batch', 3, v.image_size, v.image_size])], outputs: [valueInfo('image_embeds', 1, ['batch', config.projection_dim])] }));
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  const [modelDir, out] = process.argv.slice(2);
  exportClipVisionOnnx(modelDir, out);
  console.error(`wrote ${out}`);
}
