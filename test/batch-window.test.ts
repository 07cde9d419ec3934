// The batch window (maxWaitMs): a request that finds the backend idle waits for more only while
// requests overlap. A client that sends each request after the answer to its last must never
// be held for the window, however fast its requests come back; clients that overlap still get
// their requests merged into one batch.
import t from 'tap';
import type { NativeModel } from '../lib/bindings/native-addon.js';
import { BatchScheduler, type SchedulableModel } from '../lib/engine/scheduling/batch-scheduler.js';

const WINDOW_MS = 60;

/** A model whose forward takes `runMs` on the worker thread and which records each batch's size. */
function timedModel(runMs: number) {
  const batches: number[] = [];
  const native: NativeModel = {
    run: async (_ids, _typeIds, offsets) => {
      batches.push(offsets.length - 1);
      await new Promise((r) => setTimeout(r, runMs));
      return { width: 1, values: new Float32Array(offsets.length - 1) };
    },
    runImages: async () => ({ width: 0, values: new Float32Array() }),
    info: {},
    dispose: () => {},
  };
  const model: SchedulableModel = { id: 'm', native, perTokenOutput: false, maxBatchesInFlight: 1 };
  return { model, batches };
}

const oneSequence = (length: number) => ({ ids: new Int32Array(length).fill(5), typeIds: new Int32Array(length), offsets: Int32Array.from([0, length]) });
const scheduler = () => new BatchScheduler({ maxBatchTokens: 4096, maxWaitMs: WINDOW_MS, maxQueuedTokensPerModel: 1 << 20 });

t.test('a closed-loop client is never held for the batch window', async (t) => {
  const { model, batches } = timedModel(2);
  const s = scheduler();
  for (let i = 0; i < 6; i++) {
    const started = performance.now();
    const result = await s.run(model, oneSequence(8));
    const elapsed = performance.now() - started;
    // Arrival-timed windows held requests 2-6 here for the whole 60 ms (each came 2-3 ms after the last).
    t.ok(result.queueMs < WINDOW_MS / 2, `request ${i + 1} queued ${result.queueMs.toFixed(1)} ms`);
    t.ok(elapsed < WINDOW_MS / 2, `request ${i + 1} answered in ${elapsed.toFixed(1)} ms`);
  }
  t.same(batches, [1, 1, 1, 1, 1, 1]);
});

t.test('while requests overlap, one that finds the backend idle waits for the next and they share a batch', async (t) => {
  const { model, batches } = timedModel(2);
  const s = scheduler();
  // Two clients at once: the first goes out at once, the second overlaps it and follows.
  await Promise.all([s.run(model, oneSequence(4)), s.run(model, oneSequence(4))]);
  t.same(batches, [1, 1], 'the first went out alone, the overlapping one next');
  // Moments later, to an idle backend, two more requests 5 ms apart: the window merges them.
  const third = s.run(model, oneSequence(4));
  await new Promise((r) => setTimeout(r, 5));
  const fourth = s.run(model, oneSequence(4));
  const [a, b] = await Promise.all([third, fourth]);
  t.same(batches, [1, 1, 2], 'one batch of both');
  t.ok(a.queueMs >= WINDOW_MS - 5, `the first of them waited for the window (${a.queueMs.toFixed(1)} ms)`);
  t.ok(b.queueMs < WINDOW_MS, `the second went out with it (${b.queueMs.toFixed(1)} ms)`);
});

t.test('a failed or cancelled request stops counting as outstanding', async (t) => {
  const { model, batches } = timedModel(2);
  const s = scheduler();
  const controller = new AbortController();
  const running = s.run(model, oneSequence(4));
  const cancelled = s.run(model, oneSequence(4), controller.signal);
  controller.abort();
  await t.rejects(cancelled, { code: 'CANCELLED' });
  await running;
  // Once both are settled, nothing overlaps a later request: it would otherwise sit out the window.
  await new Promise((r) => setTimeout(r, WINDOW_MS + 5));
  const started = performance.now();
  await s.run(model, oneSequence(4));
  t.ok(performance.now() - started < WINDOW_MS / 2, 'answered without waiting');
  t.same(batches, [1, 1]);
});
