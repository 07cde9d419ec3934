// PyTorch checkpoints (torch.save zip files: pytorch_model.bin, bge-m3's *.pt heads) are read
// natively by a restricted unpickler. Real layouts load to the reference vectors; hostile and
// broken files are refused with BAD_WEIGHTS naming the problem and never take the server down;
// the readers survive a bounded fuzzing run seeded with real files (SIE_FUZZ_SECONDS, default 20).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { Engine } from '../lib/engine/engine.js';
import { cosine, readJson, referenceDir, referenceModel, repoRoot, sentences, tempDir } from './helpers/fixtures.js';
import { postJson, serveEngine } from './helpers/server.js';

const { inspectWeights } = nativeAddon();
const venvPython = path.join(repoRoot, '.venv-peers', 'bin', 'python');
const scripts = path.join(repoRoot, 'test', 'weights');
const binModel = referenceModel('tiny-bge-m3-bin');
const reference = readJson<Array<{ dense: number[] }>>(path.join(referenceDir, 'outputs', 'tiny-bge-m3-bin.bge-m3.json'));

/** The reference model with its weights replaced by `files` (copied from `from`). */
function modelWith(t: Parameters<typeof tempDir>[0], from: string, name: string): string {
  const dir = path.join(tempDir(t), name);
  cpSync(binModel, dir, { recursive: true });
  rmSync(path.join(dir, 'pytorch_model.bin'));
  for (const file of readdirSync(from)) cpSync(path.join(from, file), path.join(dir, file));
  return dir;
}

async function denseWorst(engine: Engine, model: string): Promise<number> {
  const { items } = await (await engine.acquire(model)).model.encode(sentences(), { outputTypes: ['dense'] });
  return Math.min(...items.map((item, i) => cosine(item.dense!, reference[i].dense)));
}

t.test('hostile and broken torch checkpoints are BAD_WEIGHTS naming the problem', async (t) => {
  const dir = tempDir(t);
  execFileSync('python3', [path.join(scripts, 'hostile_torch_checkpoints.py'), path.join(binModel, 'pytorch_model.bin'), dir]);
  const expected: Record<string, RegExp> = {
    'truncated-zip.bin': /not a zip archive/,
    'entry-past-end.bin': /truncated zip archive/,
    'forbidden-global.bin': /names global 'os\.system', which a weights file may not use/,
    'forbidden-stack-global.bin': /names global 'builtins\.eval'/,
    'forbidden-opcode.bin': /pickle opcode 0x69 is not allowed/,
    'short-storage.bin': /storage '0' declares 512192 F32 elements but its entry holds 1024384 bytes/,
    'dtype-long.bin': /declares 512192 I64 elements but its entry holds 2048768 bytes/,
    'dtype-half.bin': /declares 512192 F16 elements but its entry holds 2048768 bytes/,
    'missing-storage.bin': /storage '0' has no data entry/,
    'compressed.bin': /is compressed \(method 8\)/,
    'unterminated-pickle.bin': /pickle ends before STOP/,
    'legacy-format.bin': /legacy \(pre-1\.6\) torch format/,
    'two-pickles.bin': /exactly one <archive>\/data\.pkl, found 2/,
  };
  t.same(readdirSync(dir).sort(), Object.keys(expected).sort(), 'every hostile case was written');
  for (const [file, message] of Object.entries(expected)) {
    t.throws(() => inspectWeights(path.join(dir, file)), { code: 'BAD_WEIGHTS', message }, file);
  }
  // The forbidden global never ran: `os.system('true')` would have returned, so nothing here
  // proves it by output; the refusal happens at the GLOBAL opcode, before any REDUCE.
  t.match(String((() => { try { inspectWeights(path.join(dir, 'forbidden-global.bin')); } catch (e) { return (e as Error).message; } })()), /byte 2:/, 'refused at the GLOBAL opcode itself');
});

t.test('a model with a hostile pytorch_model.bin fails to load over HTTP; the server keeps serving others', async (t) => {
  const dir = tempDir(t);
  execFileSync('python3', [path.join(scripts, 'hostile_torch_checkpoints.py'), path.join(binModel, 'pytorch_model.bin'), dir]);
  const staging = path.join(dir, 'staging');
  cpSync(path.join(dir, 'forbidden-global.bin'), path.join(staging, 'pytorch_model.bin'), { recursive: true });
  const bad = modelWith(t, staging, 'evil-bge-m3');
  const { baseUrl } = await serveEngine(t, { modelsDir: [path.dirname(bad), path.dirname(binModel)] });
  const refused = await postJson(baseUrl, '/v1/encode/evil-bge-m3', { items: [{ text: 'hello' }] });
  t.equal(refused.status, 502);
  t.equal(refused.body.detail?.code ?? refused.body.code, 'MODEL_LOAD_FAILED');
  t.match(JSON.stringify(refused.body), /os\.system/);
  const served = await postJson(baseUrl, '/v1/encode/tiny-bge-m3-bin', { items: [{ text: 'hello' }], params: { output_types: ['dense', 'sparse'] } }, { accept: 'application/json' });
  t.equal(served.status, 200, 'the good model still encodes');
  t.equal(served.body.items[0].dense.values.length ?? served.body.items[0].dense.length, 64);
});

t.test('torch checkpoints in real layouts load to the reference vectors', { skip: existsSync(venvPython) ? false : 'needs .venv-peers (torch writes the variants)' }, async (t) => {
  const variants = tempDir(t);
  execFileSync(venvPython, [path.join(scripts, 'torch_checkpoint_variants.py'), binModel, variants]);
  const engine = new Engine({ threads: 2, progress: null });
  t.teardown(() => engine.close());
  for (const [variant, gate] of [['strided', 0.99999], ['shared-storage', 0.99999], ['sharded-bin', 0.99999], ['sharded-safetensors', 0.99999], ['fp16', 0.999], ['bf16', 0.999]] as const) {
    const worst = await denseWorst(engine, modelWith(t, path.join(variants, variant), variant));
    t.ok(worst >= gate, `${variant}: min cosine ${worst} (gate ${gate})`);
  }
  // A shard index naming a file outside the model directory is refused.
  const escaping = modelWith(t, path.join(variants, 'sharded-bin'), 'escaping');
  const indexPath = path.join(escaping, 'pytorch_model.bin.index.json');
  const index = JSON.parse(readFileSync(indexPath, 'utf8'));
  index.weight_map[Object.keys(index.weight_map)[0]] = '../../etc/passwd';
  writeFileSync(indexPath, JSON.stringify(index));
  t.throws(() => inspectWeights(indexPath), { code: 'BAD_WEIGHTS', message: /not a shard next to the index/ });
  // A shard that lacks a tensor the index assigns it.
  const lying = modelWith(t, path.join(variants, 'sharded-safetensors'), 'lying');
  const lyingIndex = path.join(lying, 'model.safetensors.index.json');
  const map = JSON.parse(readFileSync(lyingIndex, 'utf8'));
  const [first] = Object.keys(map.weight_map);
  map.weight_map[first] = map.weight_map[first].includes('00001') ? 'model-00002-of-00002.safetensors' : 'model-00001-of-00002.safetensors';
  writeFileSync(lyingIndex, JSON.stringify(map));
  t.throws(() => inspectWeights(lyingIndex), { code: 'BAD_WEIGHTS', message: /which does not hold it/ });
});

t.test('when both formats are present, safetensors wins', async (t) => {
  const dir = path.join(tempDir(t), 'both');
  cpSync(referenceModel('tiny-bge-m3'), dir, { recursive: true });
  writeFileSync(path.join(dir, 'pytorch_model.bin'), 'not a checkpoint at all');
  const engine = new Engine({ threads: 1, progress: null });
  t.teardown(() => engine.close());
  t.ok((await denseWorst(engine, dir)) >= 0.99999, 'the safetensors weights were used; the broken .bin was never read');
});

t.test('fuzzing: mutated checkpoints never crash, hang or escape BAD_WEIGHTS', async (t) => {
  const seconds = Number(process.env.SIE_FUZZ_SECONDS ?? 20);
  const dir = tempDir(t);
  const seeds = [
    path.join(binModel, 'sparse_linear.pt'),
    path.join(binModel, 'colbert_linear.pt'),
    path.join(referenceModel('tiny-colbert'), '1_Dense', 'model.safetensors'),
  ].map((file) => readFileSync(file));
  // Mutations aimed at each layer: anywhere in the file, inside data.pkl (stored, so the zip stays
  // valid and the bytes reach the unpickler), and inside the central directory.
  const pickleRange = (bytes: Buffer): [number, number] => {
    const at = bytes.indexOf('data.pklPK') >= 0 ? bytes.indexOf('data.pkl') + 8 : 0;
    const end = bytes.indexOf('PK', at + 1);
    return at > 0 && end > at ? [at, end] : [0, bytes.length];
  };
  const mutation = fc.record({
    seed: fc.nat(seeds.length - 1),
    region: fc.constantFrom('anywhere', 'pickle', 'directory', 'truncate'),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
  });
  let runs = 0, refused = 0;
  const file = path.join(dir, 'fuzz.bin');
  fc.assert(
    fc.property(mutation, ({ seed, region, edits }) => {
      const bytes = Buffer.from(seeds[seed]);
      let data = bytes;
      if (region === 'truncate') {
        data = bytes.subarray(0, edits[0][0] % bytes.length);
      } else {
        const [from, to] = region === 'pickle' ? pickleRange(bytes) : region === 'directory' ? [Math.max(0, bytes.lastIndexOf('PK\x01\x02')), bytes.length] : [0, bytes.length];
        for (const [at, value] of edits) bytes[from + (at % Math.max(1, to - from))] = value;
      }
      writeFileSync(file, data);
      runs++;
      try {
        inspectWeights(file);
      } catch (error) {
        refused++;
        if ((error as { code?: string }).code !== 'BAD_WEIGHTS') throw error;
      }
    }),
    { numRuns: 1e9, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false, seed: 42 },
  );
  t.ok(runs > 100, `${runs} mutated files in ${seconds} s, ${refused} refused with BAD_WEIGHTS, the rest read cleanly`);
});
