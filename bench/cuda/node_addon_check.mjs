// The CUDA addon driven from Node on a GPU machine, as lib/bindings/native-addon.ts drives it:
// plain JavaScript with no dependencies, so the GPU check can run it with a Node binary carried
// to a machine that has no Node and no npm packages.
//   - the addon loads and opens cuda:0; its memory report names the device and its VRAM;
//   - a seeded BERT checkpoint (made here by ../shared/tools/make_checkpoint.py) runs through
//     BackendHandle.loadModel / ModelHandle.run in fp32 and fp16 and matches the float64
//     reference of ../shared/tools/ref_forward.py (cosine >= 0.99999 / 0.999 per vector);
//   - bad input crosses N-API as a typed error with its code (INVALID_INPUT), and the model
//     still serves afterwards.
// usage: node node_addon_check.mjs ADDON.node SHARED_DIR WORK_DIR [PYTHON]   (exit 0: all passed)
// SIE_PARITY_DEVICE=cpu dry-runs it through the same addon's CPU backend (fp32 only).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [addonPath, shared, work, python = 'python3'] = process.argv.slice(2);
let failed = 0;
const report = (ok, what) => {
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} node ${what}`);
};

const device = process.env.SIE_PARITY_DEVICE ?? 'cuda';
const addon = createRequire(import.meta.url)(path.resolve(addonPath));
const backend = addon.openBackend(device === 'cpu' ? { device, threads: 2 } : { device, workspaceTokens: 4096 });
const memory = backend.memory();
report(device === 'cpu' || (/^cuda:0/.test(backend.device) && memory.totalBytes > 1e9), `openBackend('${device}'): ${backend.device}, ${(memory.totalBytes / 2 ** 30).toFixed(1)} GiB`);

mkdirSync(work, { recursive: true });
const model = path.join(work, 'node-tiny-dense-mean');
if (!existsSync(path.join(model, 'config.json')))
  execFileSync(python, [path.join(shared, 'tools', 'make_checkpoint.py'), 'dense-mean', model, '--hidden', '64', '--layers', '2', '--heads', '2', '--inter', '256']);
const tokensFile = path.join(shared, 'reference', 'outputs', 'sentences.tokens.json');
const items = JSON.parse(readFileSync(tokensFile, 'utf8'));
const reference = JSON.parse(execFileSync(python, [path.join(shared, 'tools', 'ref_forward.py'), model, tokensFile, 'dense'], { maxBuffer: 1 << 28 }).toString());
const config = JSON.parse(readFileSync(path.join(model, 'config.json'), 'utf8'));

const ids = Int32Array.from(items.flatMap((x) => x.ids));
const typeIds = Int32Array.from(items.flatMap((x) => x.type_ids ?? x.ids.map(() => 0)));
const offsets = Int32Array.from([0, ...items.map((x) => x.ids.length)].map((_, i, a) => a.slice(0, i + 1).reduce((s, n) => s + n, 0)));

const cosine = (a, b) => {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) (dot += a[i] * b[i]), (na += a[i] * a[i]), (nb += b[i] * b[i]);
  return dot / Math.sqrt(na * nb);
};

for (const [dtype, bar] of device === 'cpu' ? [['fp32', 0.99999]] : [['fp32', 0.99999], ['fp16', 0.999]]) {
  const handle = await backend.loadModel({
    architecture: 'bert', weightsPath: path.join(model, 'model.safetensors'), dtype,
    encoder: { hiddenSize: config.hidden_size, numLayers: config.num_hidden_layers, numHeads: config.num_attention_heads, intermediateSize: config.intermediate_size,
      vocabSize: config.vocab_size, maxPositions: config.max_position_embeddings, typeVocabSize: config.type_vocab_size, layerNormEps: config.layer_norm_eps },
    head: { kind: 'pooled', pooling: 'mean', normalize: true },
  });
  const out = await handle.run(ids, typeIds, offsets);
  const worst = Math.min(...reference.map((want, i) => cosine(out.values.subarray(i * out.width, (i + 1) * out.width), want)));
  report(worst >= bar, `${dtype}: ${reference.length} vectors, min cosine ${worst.toFixed(7)} to the float64 reference (>= ${bar})`);
  if (dtype === 'fp32') {
    const bad = Int32Array.from(ids);
    bad[3] = config.vocab_size + 5;
    let code;
    try {
      await handle.run(bad, typeIds, offsets);
    } catch (error) {
      code = error.code;
    }
    report(code === 'INVALID_INPUT', `an id past the vocabulary is a typed error: ${code}`);
    const again = await handle.run(ids, typeIds, offsets);
    report(again.values.every((v, i) => v === out.values[i]), 'the model serves the same vectors after the refused batch');
  }
  handle.dispose();
}
console.log(`node: ${failed} failed`);
process.exit(failed ? 1 : 0);
