// Parity with an independent runtime: the same checkpoint exported to a standard-op ONNX graph
// (../shared/tools/export-bert-onnx.mjs) and run by onnxruntime-node, then pooled here.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import * as ort from 'onnxruntime-node';
import { Engine } from '../lib/engine/engine.js';
import { cosine, maxAbsDiff, referenceModel, repoRoot, sentences, sentenceTokens, tempDir, toolsDir } from './helpers/fixtures.js';

function exportOnnx(modelDir: string, out: string): void {
  execFileSync(process.execPath, [path.join(toolsDir, 'export-bert-onnx.mjs'), modelDir, out], { cwd: repoRoot, env: { ...process.env, CLIENT_FROM: path.join(repoRoot, 'package.json') } });
}

async function ortSentenceEmbedding(session: ort.InferenceSession, ids: number[], pooling: 'mean' | 'cls'): Promise<Float32Array> {
  const n = ids.length;
  const feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, n]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(n), [1, n]),
  };
  const output = (await session.run(feeds)).last_hidden_state;
  const hidden = output.data as Float32Array;
  const h = output.dims[2];
  const pooled = new Float32Array(h);
  if (pooling === 'cls') pooled.set(hidden.subarray(0, h));
  else for (let tok = 0; tok < n; tok++) for (let j = 0; j < h; j++) pooled[j] += hidden[tok * h + j] / n;
  const norm = Math.sqrt(pooled.reduce((s, v) => s + v * v, 0));
  return pooled.map((v) => v / norm);
}

for (const [name, pooling] of [['tiny-dense-mean', 'mean'], ['tiny-dense-cls', 'cls'], ['tiny-dense-mean-bf16', 'mean']] as const) {
  t.test(`${name}: embeddings match ONNX Runtime on the same weights`, async (t) => {
    const onnxPath = path.join(tempDir(t), 'model.onnx');
    exportOnnx(referenceModel(name), onnxPath);
    const session = await ort.InferenceSession.create(onnxPath, { intraOpNumThreads: 1 });
    const engine = new Engine({ threads: 2, progress: null });
    t.teardown(() => engine.close());
    const texts = sentences();
    const ours = await engine.embed(referenceModel(name), texts);
    const tokens = sentenceTokens();
    for (let i = 0; i < texts.length; i++) {
      const peer = await ortSentenceEmbedding(session, tokens[i].ids, pooling);
      const c = cosine(ours.embeddings[i], peer);
      const d = maxAbsDiff(ours.embeddings[i], peer);
      t.ok(c >= 0.99999 && d <= 1e-4, `sentence ${i}: cosine ${c.toFixed(7)}, max|diff| ${d.toExponential(2)}`);
    }
    await session.release();
  });
}
