/**
 * Exports a ModernBERT or Qwen3 checkpoint (F32 safetensors, as ../shared/tools makes them) to an
 * ONNX graph of standard ops (opset 17) for onnxruntime-node: inputs input_ids / attention_mask
 * [batch, seq] int64 (right-padded), output last_hidden_state [batch, seq, hidden]. The peer of
 * the rotary-encoder benchmark: the same weights and the same arithmetic as the HF modules —
 * rotate-half RoPE from precomputed cos/sin tables, ModernBERT's sliding-window mask on its local
 * layers, Qwen3's causal mask, q/k RMSNorm and grouped-query heads (keys and values expanded to
 * the query heads in the graph, not in the weights, so ORT does no extra projection work).
 *
 *   node dist/bench/export-rope-onnx.js MODEL_DIR OUT.onnx
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeModel, GraphBuilder, readSafetensors, valueInfo, type Tensor } from './onnx-graph.js';

function rotaryTables(g: GraphBuilder, name: string, theta: number, headDim: number, maxLength: number): [string, string] {
  const cos = new Float32Array(maxLength * headDim), sin = new Float32Array(maxLength * headDim);
  const half = headDim / 2;
  for (let p = 0; p < maxLength; p++) {
    for (let j = 0; j < half; j++) {
      const angle = p / Math.pow(theta, (2 * j) / headDim);
      for (const at of [j, j + half]) {
        cos[p * headDim + at] = Math.cos(angle);
        sin[p * headDim + at] = Math.sin(angle);
      }
    }
  }
  return [g.tensor(`${name}.cos`, cos, [maxLength, headDim]), g.tensor(`${name}.sin`, sin, [maxLength, headDim])];
}

export function exportRopeOnnx(modelDir: string, out: string, maxLength = 4096): void {
  const config = JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as Record<string, any>;
  const get = readSafetensors(path.join(modelDir, 'model.safetensors'));
  const g = new GraphBuilder();
  const qwen = config.model_type === 'qwen3';
  if (!qwen && config.model_type !== 'modernbert') throw new Error(`export: model_type ${config.model_type} (modernbert or qwen3)`);
  const H: number = config.hidden_size, heads: number = config.num_attention_heads;
  const kvHeads: number = qwen ? config.num_key_value_heads : heads;
  const d: number = qwen ? config.head_dim ?? H / heads : H / heads;
  const eps: number = qwen ? config.rms_norm_eps : config.norm_eps ?? 1e-5;
  const zeros = (n: number, name: string) => g.tensor(name, new Float32Array(n), [n]);

  // Shapes and masks from the inputs.
  const tVec = g.op('Gather', [g.op('Shape', ['input_ids']), g.ints([1])], { axis: 0 });  // [1]
  const tScalar = g.op('Squeeze', [tVec, g.ints([0])]);
  const positions = g.op('Range', [g.int64Scalar(0), tScalar, g.int64Scalar(1)]);
  const maskF = g.op('Cast', ['attention_mask'], { to: 1 });
  const padding = g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [g.scalar(1), maskF]), g.scalar(-1e9)]), g.ints([1, 2])]);  // [B,1,1,T]
  const row = g.op('Unsqueeze', [positions, g.ints([1])]), col = g.op('Unsqueeze', [positions, g.ints([0])]);
  const causal = g.op('Where', [g.op('Greater', [col, row]), g.scalar(-1e9), g.scalar(0)]);  // key j > query i
  const windowHalf = Math.floor((config.local_attention ?? 128) / 2);
  const windowMask = g.op('Where', [g.op('Greater', [g.op('Abs', [g.op('Sub', [row, col])]), g.ints([windowHalf])]), g.scalar(-1e9), g.scalar(0)]);
  const fullMask = padding;
  const localMask = g.op('Add', [padding, windowMask]);
  const causalMask = g.op('Add', [padding, causal]);
  const tables = (name: string, theta: number) => rotaryTables(g, name, theta, d, maxLength).map((tbl) => g.op('Unsqueeze', [g.op('Slice', [tbl, g.ints([0]), tVec, g.ints([0])]), g.ints([0, 1])]));  // [1,1,T,d]
  const globalTheta: number = qwen ? config.rope_theta : config.global_rope_theta ?? 160000;
  const [gCos, gSin] = tables('rope.global', globalTheta);
  const [lCos, lSin] = qwen ? [gCos, gSin] : tables('rope.local', config.local_rope_theta ?? 10000);
  const rope = (x: string, cos: string, sin: string) => {
    const x1 = g.op('Slice', [x, g.ints([0]), g.ints([d / 2]), g.ints([3])]);
    const x2 = g.op('Slice', [x, g.ints([d / 2]), g.ints([d]), g.ints([3])]);
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [g.op('Concat', [g.op('Neg', [x2]), x1], { axis: 3 }), sin])]);
  };
  const layerNorm = (x: string, name: string) => g.op('LayerNormalization', [x, g.tensor(`${name}.g`, get(`${name}.weight`).data, [H]), zeros(H, `${name}.b`)], { axis: -1, epsilon: eps });
  const rmsNorm = (x: string, gamma: string) => g.op('Mul', [g.op('Div', [x, g.op('Sqrt', [g.op('Add', [g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 }), g.scalar(eps)])])]), gamma]);
  const norm = (x: string, name: string) => (qwen ? rmsNorm(x, g.tensor(`${name}.g`, get(`${name}.weight`).data, [H])) : layerNorm(x, name));
  const matmul = (x: string, name: string, t: Tensor) => g.op('MatMul', [x, g.transposed(name, t)]);
  const gelu = (x: string) => g.op('Mul', [g.op('Mul', [x, g.scalar(0.5)]), g.op('Add', [g.op('Erf', [g.op('Mul', [x, g.scalar(Math.SQRT1_2)])]), g.scalar(1)])]);
  const heads4 = (x: string, n: number) => g.op('Reshape', [x, g.ints([0, 0, n, d])]);  // [B,T,n,d]
  const toHeads = (x: string) => g.op('Transpose', [x], { perm: [0, 2, 1, 3] });  // [B,n,T,d]
  const rows = (t: Tensor, from: number, count: number): Tensor => ({ data: t.data.slice(from * t.shape[1], (from + count) * t.shape[1]), shape: [count, t.shape[1]] });

  let x = g.op('Gather', [g.tensor('embed', get(qwen ? 'embed_tokens.weight' : 'embeddings.tok_embeddings.weight').data, [config.vocab_size, H]), 'input_ids']);
  if (!qwen) x = layerNorm(x, 'embeddings.norm');
  const layers: number = config.num_hidden_layers;
  const every: number = config.global_attn_every_n_layers ?? 3;
  for (let l = 0; l < layers; l++) {
    const p = `layers.${l}.`;
    const local = !qwen && l % every !== 0;
    let h = x;
    let q: string, k: string, v: string;
    if (qwen) {
      h = norm(x, `${p}input_layernorm`);
      q = heads4(matmul(h, `${p}q`, get(`${p}self_attn.q_proj.weight`)), heads);
      k = heads4(matmul(h, `${p}k`, get(`${p}self_attn.k_proj.weight`)), kvHeads);
      v = heads4(matmul(h, `${p}v`, get(`${p}self_attn.v_proj.weight`)), kvHeads);
      q = rmsNorm(q, g.tensor(`${p}qn`, get(`${p}self_attn.q_norm.weight`).data, [d]));
      k = rmsNorm(k, g.tensor(`${p}kn`, get(`${p}self_attn.k_norm.weight`).data, [d]));
    } else {
      if (l > 0) h = layerNorm(x, `${p}attn_norm`);
      const wqkv = get(`${p}attn.Wqkv.weight`);
      q = heads4(matmul(h, `${p}q`, rows(wqkv, 0, H)), heads);
      k = heads4(matmul(h, `${p}k`, rows(wqkv, H, H)), heads);
      v = heads4(matmul(h, `${p}v`, rows(wqkv, 2 * H, H)), heads);
    }
    const [cos, sin] = local ? [lCos, lSin] : [gCos, gSin];
    q = rope(toHeads(q), cos, sin);
    k = rope(toHeads(k), cos, sin);
    v = toHeads(v);
    if (kvHeads !== heads) {
      // [B,kv,T,d] -> [B,kv,group,T,d] -> [B,heads,T,d]
      const expand = (y: string) => {
        const shape = g.op('Shape', [y]);
        const target = g.op('Concat', [g.op('Slice', [shape, g.ints([0]), g.ints([1])]), g.ints([kvHeads, heads / kvHeads]), g.op('Slice', [shape, g.ints([2]), g.ints([4])])], { axis: 0 });
        return g.op('Reshape', [g.op('Expand', [g.op('Unsqueeze', [y, g.ints([2])]), target]), g.ints([0, heads, -1, d])]);
      };
      k = expand(k);
      v = expand(v);
    }
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]), g.scalar(1 / Math.sqrt(d))]), qwen ? causalMask : local ? localMask : fullMask]);
    const context = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v])], { perm: [0, 2, 1, 3] }), g.ints([0, 0, heads * d])]);
    x = g.op('Add', [x, matmul(context, `${p}o`, get(qwen ? `${p}self_attn.o_proj.weight` : `${p}attn.Wo.weight`))]);
    const m = norm(x, qwen ? `${p}post_attention_layernorm` : `${p}mlp_norm`);
    let activated: string;
    if (qwen) {
      const gate = matmul(m, `${p}gate`, get(`${p}mlp.gate_proj.weight`));
      activated = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), matmul(m, `${p}up`, get(`${p}mlp.up_proj.weight`))]);
    } else {
      const wi = get(`${p}mlp.Wi.weight`);
      const half = wi.shape[0] / 2;
      activated = g.op('Mul', [gelu(matmul(m, `${p}in`, rows(wi, 0, half))), matmul(m, `${p}gt`, rows(wi, half, half))]);
    }
    x = g.op('Add', [x, matmul(activated, `${p}down`, get(qwen ? `${p}mlp.down_proj.weight` : `${p}mlp.Wo.weight`))]);
  }
  x = norm(x, qwen ? 'norm' : 'final_norm');
  g.identity(x, 'last_hidden_state');
  writeFileSync(out, encodeModel({ name: config.model_type, nodes: g.nodes, initializers: g.initializers,
    inputs: ['input_ids', 'attention_mask'].map((n) => valueInfo(n, 7, ['batch', 'seq'])), outputs: [valueInfo('last_hidden_state', 1, ['batch', 'seq', H])] }));
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  const [modelDir, out] = process.argv.slice(2);
  exportRopeOnnx(modelDir, out);
  console.error(`wrote ${out}`);
}
