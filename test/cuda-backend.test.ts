// The CUDA backend wherever nvcc exists (CI has CUDA 13) and no GPU does:
//  - CMake compiled every kernel for sm_80 and sm_90 with warnings as errors, and the CUDA addon;
//  - the host-side logic and the kernels' C++ twins pass (test/cuda/host_tests.cpp);
//  - the CUDA addon loads on a machine without a GPU or driver and serves the CPU, matching the
//    float64 reference; --device cuda is DEVICE_UNAVAILABLE saying why; auto falls back to the
//    CPU with one note; fp16 is refused on the CPU;
//  - the GPU check's model runner computes reference vectors through the same seam (on the CPU).
// The kernel tests need a GPU: without one they exit 77 and this file reports a skip, never a
// pass. bench/gpu-check.sh runs them, the sanitizers, parity and the benchmark on a GPU.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { cudaAddonPath, nativeAddon } from '../lib/bindings/native-addon.js';
import { Engine } from '../lib/engine/engine.js';
import { cosine, readJson, referenceDir, referenceModel, repoRoot, sentences, tempDir } from './helpers/fixtures.js';

const hasNvcc = spawnSync('nvcc', ['--version'], { stdio: 'ignore' }).status === 0;
const build = (name: string) => path.join(repoRoot, 'build', name);
const noNvcc = hasNvcc ? false : 'nvcc not installed';
const gpu = hasNvcc && existsSync(build('sie_cuda_kernel_tests')) ? spawnSync(build('sie_cuda_kernel_tests'), { encoding: 'utf8' }) : undefined;
const hasGpu = gpu !== undefined && gpu.status !== 77;
const denseReference = readJson<number[][]>(path.join(referenceDir, 'outputs', 'tiny-dense-mean.dense.json'));

t.test('nvcc compiled the kernels for sm_80 and sm_90, warnings as errors, and the CUDA addon', { skip: noNvcc }, async (t) => {
  for (const file of ['sie_cuda_kernel_tests', 'sie_cuda_host_tests', 'sie_cuda_model_run', path.join('Cuda', 'sie_native_cuda.node')])
    t.ok(existsSync(build(file)), `build/${file}`);
  // The embedded fatbinary names each cubin's target (what cuobjdump --list-elf reads).
  for (const file of ['sie_cuda_kernel_tests', path.join('Cuda', 'sie_native_cuda.node')]) {
    const binary = readFileSync(build(file)).toString('latin1');
    t.match(binary, /sm_80/, `${file} has sm_80 code`);
    t.match(binary, /sm_90/, `${file} has sm_90 code`);
  }
  t.match(readFileSync(path.join(repoRoot, 'CMakeLists.txt'), 'utf8'), /--Werror=all-warnings/, 'nvcc runs with --Werror=all-warnings');
});

t.test('host-side logic and the kernels\' C++ twins', { skip: noNvcc }, async (t) => {
  const run = spawnSync(build('sie_cuda_host_tests'), { encoding: 'utf8' });
  t.equal(run.status, 0, run.status === 0 ? 'host tests exit 0' : run.stdout);
  const summary = /^(\d+) passed, 0 failed$/m.exec(run.stdout);
  t.ok(summary && Number(summary[1]) >= 30, `all host checks passed: ${summary?.[0]}`);
  if (!hasGpu) t.match(run.stdout, /ok {3}open_backend\('cuda'\) without a GPU is DEVICE_UNAVAILABLE/);
});

t.test('the CUDA addon loads without a GPU and serves the CPU', { skip: noNvcc }, async (t) => {
  t.equal(cudaAddonPath(), build(path.join('Cuda', 'sie_native_cuda.node')), 'the local CUDA build is found');
  t.equal(cudaAddonPath({ SIE_CUDA_ADDON: build('sie_cuda_host_tests') }), build('sie_cuda_host_tests'), 'SIE_CUDA_ADDON names another file');
  const addon = nativeAddon('cuda');
  const cpu = addon.openBackend({ device: 'cpu', threads: 1 });
  t.equal(cpu.device, 'cpu');
  if (!hasGpu) {
    t.throws(() => addon.openBackend({ device: 'cuda' }), { code: 'DEVICE_UNAVAILABLE', message: /no usable CUDA device/ });
    t.throws(() => addon.openBackend({ device: 'cuda:1' }), { code: 'DEVICE_UNAVAILABLE' });
  }
  t.throws(() => addon.openBackend({ device: 'cuda:x' as 'cuda' }), { code: 'INVALID_ARGUMENT' });
  t.throws(() => addon.openBackend({ device: 'cpu', workspaceTokens: -1 }), { code: 'INVALID_ARGUMENT' });
  // fp16 crosses the binding (the CUDA backend computes it) and the CPU backend refuses it itself.
  const description = { architecture: 'bert' as const, weightsPath: path.join(referenceModel('tiny-dense-mean'), 'model.safetensors'), dtype: 'fp16' as const,
    encoder: { hiddenSize: 64, numLayers: 2, numHeads: 2, intermediateSize: 256, vocabSize: 30522, maxPositions: 512, typeVocabSize: 2, layerNormEps: 1e-12 },
    head: { kind: 'pooled' as const, pooling: 'mean' as const, normalize: true } };
  await t.rejects(cpu.loadModel(description), { code: 'DEVICE_UNAVAILABLE', message: /does not compute dtype 'fp16'/ });

  // The engine through the CUDA build's CPU backend: the same vectors as the float64 reference.
  const engine = new Engine({ threads: 2, device: hasGpu ? 'cuda' : 'auto', modelsDir: path.join(referenceDir, 'models'), progress: null });
  t.teardown(() => engine.close());
  if (!hasGpu) t.match(engine.deviceNote, /^device auto: running on the CPU \(no usable CUDA device/, String(engine.deviceNote));
  const { embeddings } = await engine.embed('tiny-dense-mean', sentences());
  const worst = Math.min(...embeddings.map((v, i) => cosine(v, denseReference[i])));
  t.ok(worst >= 0.99999, `min cosine ${worst.toFixed(7)} to the float64 reference on ${engine.device}`);
});

t.test('--device cuda without a GPU, and fp16 on the CPU, are refused with DEVICE_UNAVAILABLE', { skip: hasGpu ? 'this machine has a GPU' : noNvcc }, async (t) => {
  t.throws(() => new Engine({ threads: 1, device: 'cuda', progress: null }), { name: 'EngineError', code: 'DEVICE_UNAVAILABLE', message: /no usable CUDA device/ });
  t.throws(() => new Engine({ threads: 1, device: 'cpu', dtype: 'fp16', progress: null }), { code: 'DEVICE_UNAVAILABLE', message: /fp16/ });
});

t.test('the GPU check\'s model runner reproduces the reference through the backend seam (CPU here)', { skip: noNvcc }, async (t) => {
  const out = path.join(tempDir(t), 'out.json');
  const run = spawnSync(build('sie_cuda_model_run'), ['--device', 'cpu', '--model', referenceModel('tiny-dense-mean'), '--tokens',
    path.join(referenceDir, 'outputs', 'sentences.tokens.json'), '--head', 'pooled', '--pooling', 'mean', '--out', out], { encoding: 'utf8' });
  t.equal(run.status, 0, run.status === 0 ? 'runner exit 0' : run.stderr);
  const result = readJson<{ width: number; values: number[] }>(out);
  t.equal(result.width, denseReference[0].length);
  const rows = denseReference.map((_, i) => result.values.slice(i * result.width, (i + 1) * result.width));
  t.ok(Math.min(...rows.map((v, i) => cosine(v, denseReference[i]))) >= 0.99999, 'every row matches the float64 reference');
  const bad = spawnSync(build('sie_cuda_model_run'), ['--device', 'cuda:nope', '--model', referenceModel('tiny-dense-mean'), '--tokens',
    path.join(referenceDir, 'outputs', 'sentences.tokens.json')], { encoding: 'utf8' });
  t.equal(bad.status, 2);
  t.match(bad.stderr, /^INVALID_ARGUMENT: device must be 'cuda' or 'cuda:N'/);
});

t.test('the CUDA kernels against their C++ twins on a GPU', { skip: hasGpu ? false : 'no CUDA device on this machine (bench/gpu-check.sh runs them on a GPU)' }, async (t) => {
  t.equal(gpu!.status, 0, gpu!.stdout);
  t.match(gpu!.stdout, /^\d+ passed, 0 failed$/m);
});
