/**
 * Padding-free token batches, as the native engine runs them, and the pure functions the
 * scheduler uses on them: split a request under the token budget, merge requests into one
 * batch, and split a native result back per sequence.
 */
import type { NativeRunOutput } from '../../bindings/native-addon.js';
import type { OutputType, SequenceOutput } from '../../families/model-family.js';

export interface TokenBatch {
  ids: Int32Array;
  typeIds: Int32Array;
  /** offsets[i]..offsets[i+1] are the tokens of sequence i. */
  offsets: Int32Array;
}

/** Consecutive sequence ranges [begin, end) holding at most `budget` tokens each (at least one sequence). */
export function splitByTokenBudget(offsets: Int32Array, budget: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const count = offsets.length - 1;
  let begin = 0;
  for (let i = 1; i <= count; i++) {
    if (offsets[i] - offsets[begin] > budget && i - 1 > begin) {
      ranges.push([begin, i - 1]);
      begin = i - 1;
    }
  }
  if (count > begin) ranges.push([begin, count]);
  return ranges;
}

export function sliceBatch(batch: TokenBatch, begin: number, end: number): TokenBatch {
  const from = batch.offsets[begin];
  const to = batch.offsets[end];
  const offsets = batch.offsets.slice(begin, end + 1);
  for (let i = 0; i < offsets.length; i++) offsets[i] -= from;
  return { ids: batch.ids.subarray(from, to), typeIds: batch.typeIds.subarray(from, to), offsets };
}

export function mergeBatches(batches: TokenBatch[]): TokenBatch {
  if (batches.length === 1) return batches[0];
  const tokens = batches.reduce((n, b) => n + b.ids.length, 0);
  const sequences = batches.reduce((n, b) => n + b.offsets.length - 1, 0);
  const ids = new Int32Array(tokens);
  const typeIds = new Int32Array(tokens);
  const offsets = new Int32Array(sequences + 1);
  let tokenAt = 0, sequenceAt = 0;
  for (const b of batches) {
    ids.set(b.ids, tokenAt);
    typeIds.set(b.typeIds, tokenAt);
    for (let i = 1; i < b.offsets.length; i++) offsets[sequenceAt + i] = tokenAt + b.offsets[i];
    tokenAt += b.ids.length;
    sequenceAt += b.offsets.length - 1;
  }
  return { ids, typeIds, offsets };
}

export function splitOutput(out: NativeRunOutput, offsets: Int32Array, perToken: boolean): SequenceOutput[] {
  const result: SequenceOutput[] = [];
  for (let i = 0; i < offsets.length - 1; i++) {
    if (out.indices && out.rowOffsets) {
      const [a, b] = [out.rowOffsets[i], out.rowOffsets[i + 1]];
      result.push({ values: out.values.subarray(a, b), indices: out.indices.subarray(a, b), rows: 1 });
    } else if (out.rowOffsets) {
      const [a, b] = [out.rowOffsets[i], out.rowOffsets[i + 1]];
      result.push({ values: out.values.subarray(a * out.width, b * out.width), rows: b - a });
    } else if (perToken) {
      result.push({ values: out.values.subarray(offsets[i] * out.width, offsets[i + 1] * out.width), rows: offsets[i + 1] - offsets[i] });
    } else {
      result.push({ values: out.values.subarray(i * out.width, (i + 1) * out.width), rows: 1 });
    }
  }
  if (out.parts) {
    // A multi-output head: each part split on its own terms (dense per sequence, the rest per token).
    for (const [name, part] of Object.entries(out.parts) as Array<[OutputType, NativeRunOutput]>) {
      const split = splitOutput(part, offsets, name !== 'dense');
      result.forEach((sequence, i) => {
        (sequence.parts ??= {})[name] = split[i];
      });
    }
  }
  return result;
}
