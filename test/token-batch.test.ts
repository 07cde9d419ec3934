// The scheduler's pure batch functions, on hand-computed tables.
import t from 'tap';
import { mergeBatches, sliceBatch, splitByTokenBudget, splitOutput, type TokenBatch } from '../lib/engine/scheduling/token-batch.js';

const batchOf = (lengths: number[], firstId = 1): TokenBatch => {
  const offsets = Int32Array.from([0, ...lengths.map((_, i) => lengths.slice(0, i + 1).reduce((a, b) => a + b, 0))]);
  const total = offsets[offsets.length - 1];
  return { ids: Int32Array.from({ length: total }, (_, i) => firstId + i), typeIds: Int32Array.from({ length: total }, (_, i) => i % 2), offsets };
};

t.test('splitByTokenBudget: consecutive ranges under the budget, a lone long sequence alone', async (t) => {
  const cases: Array<[number[], number, Array<[number, number]>]> = [
    [[3], 10, [[0, 1]]],
    [[3, 3, 3], 10, [[0, 3]]],
    [[3, 3, 3], 9, [[0, 3]]],
    [[3, 3, 3], 8, [[0, 2], [2, 3]]],
    [[3, 3, 3], 3, [[0, 1], [1, 2], [2, 3]]],
    [[12], 10, [[0, 1]]],
    [[2, 12, 2], 10, [[0, 1], [1, 2], [2, 3]]],
    [[5, 5, 5, 5], 10, [[0, 2], [2, 4]]],
    [[1, 1, 1, 1, 1], 2, [[0, 2], [2, 4], [4, 5]]],
    [[], 10, []],
  ];
  for (const [lengths, budget, expected] of cases) {
    t.same(splitByTokenBudget(batchOf(lengths).offsets, budget), expected, `lengths ${JSON.stringify(lengths)}, budget ${budget}`);
  }
});

t.test('sliceBatch: rebased offsets, views of the same ids', async (t) => {
  const batch = batchOf([2, 3, 1]);
  const middle = sliceBatch(batch, 1, 3);
  t.same(Array.from(middle.offsets), [0, 3, 4]);
  t.same(Array.from(middle.ids), [3, 4, 5, 6]);
  t.same(Array.from(middle.typeIds), [0, 1, 0, 1]);
});

t.test('mergeBatches: ids, type ids and offsets concatenated in order', async (t) => {
  const merged = mergeBatches([batchOf([2, 1], 10), batchOf([3], 20), batchOf([1, 1], 30)]);
  t.same(Array.from(merged.ids), [10, 11, 12, 20, 21, 22, 30, 31]);
  t.same(Array.from(merged.typeIds), [0, 1, 0, 0, 1, 0, 0, 1]);
  t.same(Array.from(merged.offsets), [0, 2, 3, 6, 7, 8]);
  const one = batchOf([4]);
  t.equal(mergeBatches([one]), one, 'a single batch is passed through');
});

t.test('splitOutput: per sequence, per token, and sparse rows', async (t) => {
  const offsets = Int32Array.of(0, 2, 5);
  const perSequence = splitOutput({ width: 2, values: Float32Array.of(1, 2, 3, 4) }, offsets, false);
  t.same(perSequence.map((o) => [Array.from(o.values), o.rows]), [[[1, 2], 1], [[3, 4], 1]]);
  const perToken = splitOutput({ width: 1, values: Float32Array.of(1, 2, 3, 4, 5) }, offsets, true);
  t.same(perToken.map((o) => [Array.from(o.values), o.rows]), [[[1, 2], 2], [[3, 4, 5], 3]]);
  const sparse = splitOutput({ width: 0, values: Float32Array.of(0.5, 0.25, 0.125), indices: Int32Array.of(7, 3, 9), rowOffsets: Int32Array.of(0, 1, 3) }, offsets, false);
  t.same(sparse.map((o) => [Array.from(o.indices!), Array.from(o.values)]), [[[7], [0.5]], [[3, 9], [0.25, 0.125]]]);
});
