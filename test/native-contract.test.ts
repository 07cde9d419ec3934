// The names JS and C++ must agree on, read from the loaded addon: every error code the native
// engine can raise is one lib/ knows (and maps to an HTTP status), and the heads lib/families
// can ask for are exactly the ones the native head registry builds.
import t from 'tap';
import { NATIVE_HEAD_KINDS, nativeAddon } from '../lib/bindings/native-addon.js';
import { EngineError } from '../lib/errors/engine-error.js';
import { ERROR_CODES } from '../lib/errors/error-codes.js';
import { adapterFor } from '../lib/families/index.js';
import { httpStatusOf } from '../lib/server/error-mapping.js';
import { referenceModel } from './helpers/fixtures.js';

t.test('every native error code is in ERROR_CODES and has an HTTP status', async (t) => {
  const native = nativeAddon().errorCodes;
  t.ok(native.length >= 5, `the addon reports its codes (${native.join(', ')})`);
  for (const code of native) {
    t.ok((ERROR_CODES as readonly string[]).includes(code), `${code} is a known code`);
    const status = httpStatusOf(EngineError.from(Object.assign(new Error('x'), { code })));
    t.ok(status >= 400 && status < 600, `${code} -> ${status}`);
  }
});

t.test('native head kinds and NATIVE_HEAD_KINDS are the same list', async (t) => {
  t.same([...nativeAddon().headKinds].sort(), [...NATIVE_HEAD_KINDS].sort());
});

t.test('an unknown head or device is refused with a coded error, not a crash', async (t) => {
  const addon = nativeAddon();
  t.throws(() => addon.openBackend({ device: 'tpu' as 'cpu' }), { code: 'INVALID_ARGUMENT', message: /unknown device 'tpu'/ });
  t.throws(() => addon.openBackend({ device: 'cuda' }), { code: 'DEVICE_UNAVAILABLE' });
  const backend = addon.openBackend({ device: 'cpu', threads: 1 });
  t.equal(backend.device, 'cpu');
  const description = adapterFor(referenceModel('tiny-dense-mean')).description;
  await t.rejects(backend.loadModel({ ...description, head: { kind: 'hologram' as 'pooled' } }), { code: 'BAD_CONFIG', message: /unknown head 'hologram' \(known: pooled, token-projection/ });
  await t.rejects(backend.loadModel({ ...description, head: { kind: 'pooled', pooling: 'max' as 'mean' } }), { code: 'BAD_CONFIG', message: /pooling must be/ });
  await t.rejects(backend.loadModel({ ...description, architecture: 'gpt' as 'bert' }), { code: 'BAD_CONFIG', message: /architecture 'gpt'/ });
  t.throws(() => backend.loadModel({ weightsPath: 1 } as never), { code: 'INVALID_ARGUMENT' });
});

t.test('a backend reports the memory of the models it holds, and frees it on dispose', async (t) => {
  const backend = nativeAddon().openBackend({ device: 'cpu', threads: 1 });
  const model = await backend.loadModel(adapterFor(referenceModel('tiny-dense-mean')).description);
  t.ok(model.info.weightBytes! > 0);
  t.equal(model.info.maxBatchesInFlight, 1, 'the CPU backend runs one batch at a time');
  t.equal(backend.memory().usedBytes, model.info.weightBytes! + model.info.workspaceBytes!);
  model.dispose();
  t.equal(backend.memory().usedBytes, 0);
  await t.rejects(async () => model.run(Int32Array.of(101, 102), Int32Array.of(0, 0), Int32Array.of(0, 2)), { code: 'MODEL_DISPOSED' });
});

t.test('Engine devices: auto falls back to the CPU and says why; cuda without a CUDA backend is refused', async (t) => {
  const { Engine } = await import('../lib/engine/engine.js');
  const auto = new Engine({ threads: 1, device: 'auto', progress: null });
  t.teardown(() => auto.close());
  t.equal(auto.device, 'cpu');
  t.match(auto.deviceNote, /device auto: running on the CPU \(.*CUDA/);
  t.throws(() => new Engine({ threads: 1, device: 'cuda', progress: null }), { name: 'EngineError', code: 'DEVICE_UNAVAILABLE' });
  const cpu = new Engine({ threads: 1, progress: null });
  t.teardown(() => cpu.close());
  t.equal(cpu.deviceNote, undefined, 'no note when the device was asked for');
});
