// A lone short request runs on the event loop's thread (NativeModel.runNow) when nothing else is
// queued or running and the model's cost per token (learnt from its batches) predicts a pass of
// at most INLINE_MAX_MS; everything else goes through the worker thread (run) as before. The
// scheduler's choices are checked with a recording stand-in for the native model; runNow itself
// against run() on a real checkpoint, and against a backend kept busy by another batch.
import t from 'tap';
import { nativeAddon, type NativeModel, type NativeRunOutput } from '../lib/bindings/native-addon.js';
import { EngineError } from '../lib/errors/engine-error.js';
import { adapterFor } from '../lib/families/index.js';
import { BatchScheduler, INLINE_MAX_MS, type SchedulableModel } from '../lib/engine/scheduling/batch-scheduler.js';
import { referenceModel } from './helpers/fixtures.js';

/**
 * A model whose output row for a sequence is [its first id, its length], and which records how it
 * ran. run() takes runMs (5 by default); runNow() answers at once, or null when `busy`.
 */
function recordingModel(options: { busy?: boolean; failNow?: boolean; runMs?: number } = {}) {
  const calls: Array<{ how: 'run' | 'runNow' | 'busy'; sequences: number }> = [];
  const compute = (ids: Int32Array, offsets: Int32Array): NativeRunOutput => {
    const values = new Float32Array(2 * (offsets.length - 1));
    for (let s = 0; s + 1 < offsets.length; s++) values.set([ids[offsets[s]], offsets[s + 1] - offsets[s]], 2 * s);
    return { width: 2, values };
  };
  const native: NativeModel = {
    run: async (ids, _typeIds, offsets) => {
      calls.push({ how: 'run', sequences: offsets.length - 1 });
      await new Promise((r) => setTimeout(r, options.runMs ?? 5));
      return compute(ids, offsets);
    },
    runNow: (ids, _typeIds, offsets) => {
      if (options.busy) {
        calls.push({ how: 'busy', sequences: offsets.length - 1 });
        return null;
      }
      calls.push({ how: 'runNow', sequences: offsets.length - 1 });
      if (options.failNow) throw new EngineError('INVALID_INPUT', 'token id 99 is out of range');
      return compute(ids, offsets);
    },
    runImages: async () => ({ width: 0, values: new Float32Array() }),
    info: {},
    dispose: () => {},
  };
  const model: SchedulableModel = { id: 'm', native, perTokenOutput: false, maxBatchesInFlight: 1 };
  return { model, calls };
}

const batchOf = (first: number, length: number) => ({
  ids: Int32Array.from({ length }, (_, i) => first + i),
  typeIds: new Int32Array(length),
  offsets: Int32Array.from([0, length]),
});

const scheduler = (inlineMaxTokens: number) => new BatchScheduler({ maxBatchTokens: 4096, maxWaitMs: 1, maxQueuedTokensPerModel: 1 << 20, inlineMaxTokens });

t.test('a lone short request runs now, on this thread, once a batch has shown what a token costs', async (t) => {
  const { model, calls } = recordingModel({ runMs: 1 });
  const s = scheduler(64);
  await s.run(model, batchOf(1, 40));
  t.same(calls, [{ how: 'run', sequences: 1 }], 'the first request of a model takes the worker thread');
  const result = await s.run(model, batchOf(7, 12));
  t.same(calls[1], { how: 'runNow', sequences: 1 }, 'then a 12-token request runs now');
  t.same(Array.from(result.outputs[0].values), [7, 12]);
});

t.test('a request predicted to hold the event loop past INLINE_MAX_MS takes the worker thread', async (t) => {
  // 12 tokens in 12 ms: about 1 ms a token, a 24-layer model's cost on two cores.
  const { model, calls } = recordingModel({ runMs: 12 });
  const s = scheduler(64);
  await s.run(model, batchOf(1, 12));
  await s.run(model, batchOf(2, 12));
  t.same(calls, [{ how: 'run', sequences: 1 }, { how: 'run', sequences: 1 }], `12 tokens (~12 ms) stay off the event loop (limit ${INLINE_MAX_MS} ms)`);
  await s.run(model, batchOf(3, 2));
  t.same(calls[2], { how: 'runNow', sequences: 1 }, '2 tokens (~2 ms) run now');
});

t.test('requests that arrive together still go out as one batch, on the worker thread', async (t) => {
  const { model, calls } = recordingModel();
  const s = scheduler(64);
  const results = await Promise.all([s.run(model, batchOf(1, 5)), s.run(model, batchOf(2, 6)), s.run(model, batchOf(3, 7))]);
  t.same(calls, [{ how: 'run', sequences: 3 }]);
  t.same(results.map((r) => Array.from(r.outputs[0].values)), [[1, 5], [2, 6], [3, 7]]);
});

t.test('past the token limit, with the limit at 0, or with a batch running, a request takes the worker thread', async (t) => {
  const long = recordingModel();
  await scheduler(64).run(long.model, batchOf(1, 65));
  t.same(long.calls, [{ how: 'run', sequences: 1 }], '65 tokens against a limit of 64');
  const off = recordingModel();
  await scheduler(0).run(off.model, batchOf(1, 3));
  t.same(off.calls, [{ how: 'run', sequences: 1 }], 'inlineMaxTokens 0');
  const behind = recordingModel();
  const s = scheduler(64);
  const first = s.run(behind.model, batchOf(1, 100));  // on the worker thread for 5 ms
  await new Promise((r) => setImmediate(r));
  const second = s.run(behind.model, batchOf(2, 3));
  await Promise.all([first, second]);
  t.same(behind.calls, [{ how: 'run', sequences: 1 }, { how: 'run', sequences: 1 }], 'queued behind a running batch');
});

t.test('a busy backend sends the request to the worker thread; a failure reaches the request', async (t) => {
  const busy = recordingModel({ busy: true, runMs: 1 });
  const s = scheduler(64);
  await s.run(busy.model, batchOf(1, 2));  // learns the cost per token
  const result = await s.run(busy.model, batchOf(4, 2));
  t.same(busy.calls, [{ how: 'run', sequences: 1 }, { how: 'busy', sequences: 1 }, { how: 'run', sequences: 1 }]);
  t.same(Array.from(result.outputs[0].values), [4, 2]);
  const failing = recordingModel({ failNow: true, runMs: 1 });
  const f = scheduler(64);
  await f.run(failing.model, batchOf(1, 2));
  await t.rejects(f.run(failing.model, batchOf(99, 2)), { code: 'INVALID_INPUT', message: /out of range/ });
  t.same(failing.calls.map((c) => c.how), ['run', 'runNow'], 'the failure came from runNow');
});

t.test('runNow on a real checkpoint: the same vectors as run(), and null while another batch holds the backend', async (t) => {
  const backend = nativeAddon().openBackend({ device: 'cpu', threads: 2 });
  const model = await backend.loadModel(adapterFor(referenceModel('tiny-dense-mean')).description);
  t.teardown(() => model.dispose());
  const ids = Int32Array.from([101, 7592, 2088, 102, 101, 2023, 2003, 1037, 3231, 102]);
  const typeIds = new Int32Array(ids.length);
  const offsets = Int32Array.from([0, 4, 10]);
  const now = model.runNow!(ids, typeIds, offsets);
  const later = await model.run(ids, typeIds, offsets);
  t.ok(now !== null, 'an idle backend runs it now');
  t.equal(now!.width, later.width);
  t.same(Array.from(now!.values), Array.from(later.values), 'identical values');
  // A batch of 64 x 512 tokens keeps the backend busy for far longer than the 20 ms we wait.
  const big = 64 * 512;
  const bigIds = Int32Array.from({ length: big }, (_, i) => (i % 512 === 0 ? 101 : 1000 + (i % 997)));
  const running = model.run(bigIds, new Int32Array(big), Int32Array.from({ length: 65 }, (_, s) => s * 512));
  await new Promise((r) => setTimeout(r, 20));
  t.equal(model.runNow!(ids, typeIds, offsets), null, 'busy: null, without waiting');
  await running;
  t.throws(() => model.runNow!(Int32Array.from([101, 999999, 102]), new Int32Array(3), Int32Array.from([0, 3])), { code: 'INVALID_INPUT' }, 'a bad token id is a coded error');
});
