// The benchmark's peer is only fair if it computes the same model: the standard-op ONNX exports
// of ModernBERT and Qwen3 (bench/export-rope-onnx.ts), run by onnxruntime-node on right-padded
// batches, give the float64 reference's vectors (CLS / last token), window and causal masks and
// grouped-query heads included.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import t from 'tap';
import { exportRopeOnnx } from '../bench/export-rope-onnx.js';
import { cosine, readJson, referenceDir, referenceModel, tempDir, type ReferenceTokens } from './helpers/fixtures.js';

for (const [model, tokensFile, denseFile, pooling] of [
  ['tiny-modernbert', 'sentences.modernbert-tokens.json', 'tiny-modernbert.dense.json', 'cls'],
  ['tiny-qwen3-embedding', 'sentences.qwen3-tokens.json', 'tiny-qwen3-embedding.dense.json', 'last'],
] as const) {
  t.test(`${model}: the ONNX export equals the reference on a padded batch`, async (t) => {
    const file = path.join(tempDir(t), 'model.onnx');
    exportRopeOnnx(referenceModel(model), file, 1024);
    const session = await ort.InferenceSession.create(file);
    t.teardown(() => session.release());
    const tokens = readJson<ReferenceTokens[]>(path.join(referenceDir, 'outputs', tokensFile)).slice(20, 28);
    const reference = readJson<number[][]>(path.join(referenceDir, 'outputs', denseFile)).slice(20, 28);
    const longest = Math.max(...tokens.map((x) => x.ids.length));
    t.ok(longest > 300, `a batch padded to ${longest} tokens`);
    const ids = new BigInt64Array(tokens.length * longest);
    const mask = new BigInt64Array(tokens.length * longest);
    tokens.forEach((x, b) => x.ids.forEach((id, i) => {
      ids[b * longest + i] = BigInt(id);
      mask[b * longest + i] = 1n;
    }));
    const out = await session.run({ input_ids: new ort.Tensor('int64', ids, [tokens.length, longest]), attention_mask: new ort.Tensor('int64', mask, [tokens.length, longest]) });
    const hidden = out.last_hidden_state.data as Float32Array;
    const width = out.last_hidden_state.dims[2];
    tokens.forEach((x, b) => {
      const at = b * longest + (pooling === 'cls' ? 0 : x.ids.length - 1);
      t.ok(cosine(hidden.subarray(at * width, (at + 1) * width), reference[b]) >= 0.99999, `sequence ${b} (${x.ids.length} tokens)`);
    });
  });
}
