// A forward pass runs on a native thread: the event loop keeps ticking during a long batch.
import t from 'tap';
import { Engine } from '../lib/engine/engine.js';
import { referenceModel } from './helpers/fixtures.js';

t.test('timers keep firing while a long batch is being encoded', async (t) => {
  const engine = new Engine({ threads: 1, progress: null });
  t.teardown(() => engine.close());
  await engine.load(referenceModel('tiny-dense-mean'));
  const texts = Array.from({ length: 600 }, (_, i) => `sentence number ${i} `.repeat(30));
  let ticks = 0;
  let longestGapMs = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
    ticks++;
  }, 5);
  const started = performance.now();
  const result = await engine.embed('tiny-dense-mean', texts);
  const elapsed = performance.now() - started;
  clearInterval(timer);
  t.equal(result.embeddings.length, texts.length);
  t.ok(elapsed > 100, `the batch took long enough to matter (${elapsed.toFixed(0)} ms)`);
  t.ok(ticks >= elapsed / 5 / 4, `${ticks} timer ticks during ${elapsed.toFixed(0)} ms`);
  t.ok(longestGapMs < elapsed / 2, `no stall: longest gap between ticks ${longestGapMs.toFixed(1)} ms`);
});
