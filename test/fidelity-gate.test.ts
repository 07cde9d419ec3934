// The fidelity gate's comparisons on hand-made outputs, against figures worked out by hand: what
// each bar lets through and what it refuses. The engine-level tests (bf16-parity, bf16x3-parity)
// show the gate's verdicts on real models; these pin its arithmetic.
import t from 'tap';
import type { NativeRunOutput } from '../lib/bindings/native-addon.js';
import { BF16_BAR, BF16X3_BAR, compareOutputs } from '../lib/engine/fidelity-gate.js';

const logits = (...v: number[]): NativeRunOutput => ({ width: 1, values: new Float32Array(v) });

t.test('ranking: the order under every bar, and the sigmoid scores within 1e-5 under the fp32-grade bar', async (t) => {
  // σ'(1) = σ(1)(1 - σ(1)) = 0.19661: a logit moved by 1e-4 moves its score by 1.97e-5, one moved
  // by 2e-5 moves it by 3.9e-6.
  const exact = logits(1, -0.5, 0.25);
  const far = compareOutputs('ranking', exact, logits(1 + 1e-4, -0.5, 0.25), BF16X3_BAR);
  t.equal(far.ok, false, far.detail);
  t.match(far.detail, /identical order of 3 candidates, scores within 1\.9[67]e-5 \(gate 0\.00001\)/);
  const near = compareOutputs('ranking', exact, logits(1 + 2e-5, -0.5, 0.25), BF16X3_BAR);
  t.equal(near.ok, true, near.detail);
  t.match(near.detail, /scores within 3\.9\de-6/);
  // bf16's bar asks for the order only.
  t.equal(compareOutputs('ranking', exact, logits(1 + 1e-2, -0.5, 0.25), BF16_BAR).ok, true);
  const swapped = compareOutputs('ranking', exact, logits(0.2, -0.5, 0.25), BF16_BAR);
  t.equal(swapped.ok, false);
  t.match(swapped.detail, /rerank order differs: \[0,2,1\] vs \[2,0,1\]/);
});

t.test('vectors: the smallest cosine against the bar', async (t) => {
  // (1, 0) against (1, 0.01): cosine 1 / sqrt(1.0001) = 0.99995000375.
  const exact: NativeRunOutput = { width: 2, values: new Float32Array([1, 0, 0, 1]) };
  const fast: NativeRunOutput = { width: 2, values: new Float32Array([1, 0.01, 0, 1]) };
  const bf16 = compareOutputs('vectors', exact, fast, BF16_BAR);
  t.equal(bf16.ok, true);
  t.match(bf16.detail, /min cosine 0\.99995\d over 2 vectors \(gate 0\.999\)/);
  const fp32Grade = compareOutputs('vectors', exact, fast, BF16X3_BAR);
  t.equal(fp32Grade.ok, false);
  t.match(fp32Grade.detail, /min cosine 0\.9999500\d over 2 vectors \(gate 0\.99999\)/);
});

t.test('sparse: the term sets under every bar, and the weights within 1e-4 under the fp32-grade bar', async (t) => {
  const sparse = (indices: number[], values: number[]): NativeRunOutput => ({
    width: 0, values: new Float32Array(values), indices: new Int32Array(indices), rowOffsets: new Int32Array([0, indices.length]),
  });
  const exact = sparse([3, 17], [0.5, 1.25]);
  t.equal(compareOutputs('sparse-terms', exact, sparse([3, 17], [0.5, 1.2502]), BF16X3_BAR).ok, false, 'a weight 2e-4 away');
  t.equal(compareOutputs('sparse-terms', exact, sparse([3, 17], [0.5, 1.25005]), BF16X3_BAR).ok, true, 'a weight 5e-5 away');
  t.equal(compareOutputs('sparse-terms', exact, sparse([3, 17], [0.5, 1.3]), BF16_BAR).ok, true, "bf16's bar: the terms only");
  const other = compareOutputs('sparse-terms', exact, sparse([3, 18], [0.5, 1.25]), BF16_BAR);
  t.equal(other.ok, false);
  t.match(other.detail, /input 0: sparse term sets differ/);
});
