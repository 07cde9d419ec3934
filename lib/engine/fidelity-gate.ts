/**
 * The fidelity gate of a fast dtype: at load, a fixed probe batch runs through the fp32 model
 * and the fast one (a vision tower's too, on probe images), and the fast model is kept only if it
 * answers like the exact one — cosine
 * >= 0.999 for every vector (0.99999 for bf16x3 and bf16x3q, whose sparse weights must also stay within 1e-4) (pooled, per token, or classifier logits), the same sparse term set
 * for every input, the same reranking order. Otherwise the model stays fp32, and the reason is
 * reported once.
 */
import type { NativeRunOutput } from '../bindings/native-addon.js';
import type { ModelAdapter } from '../families/index.js';
import type { ImageInputs } from '../families/model-family.js';
import { clipPixelValues } from '../images/clip-preprocessor.js';
import { sigmoid } from '../families/postprocessing/score-functions.js';

/** Inputs of varied length and script, fixed so the verdict does not depend on traffic. */
export const PROBE_TEXTS = [
  'The quick brown fox jumps over the lazy dog.',
  'Embeddings map text to vectors; similar meanings land close together.',
  'A short one.',
  'Paris is the capital of France, and Berlin is the capital of Germany.',
  'Rerankers score a query against each candidate document and sort them by relevance to the question asked.',
  'café naïve résumé — 東京 2024 🚀',
  'How do I reset my password if I no longer have access to the email address on my account?',
  'Proteins fold into three-dimensional shapes determined by their amino acid sequences, which in turn set their function.',
];

export const PROBE_QUERY = 'how do embedding models compare texts';

/**
 * Images for a vision tower's probe, as RGB bytes at the tower's side: a smooth colour ramp, a
 * hard-edged checkerboard and seeded noise (flat regions, edges and texture), then preprocessed
 * as any request's image is.
 */
export const PROBE_IMAGE_COUNT = 3;

export async function probeImagePixels(images: ImageInputs): Promise<Float32Array> {
  const side = images.imageSize;
  let seed = 12345;
  const noise = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 24;
  };
  const byteOf = [
    (x: number, y: number, c: number) => Math.floor((255 * (c === 0 ? x : c === 1 ? y : x + y)) / (c === 2 ? 2 * side : side)),
    (x: number, y: number, c: number) => (((x >> 3) + (y >> 3)) & 1 ? 230 - 40 * c : 20 + 60 * c),
    () => noise(),
  ];
  const out = new Float32Array(PROBE_IMAGE_COUNT * 3 * side * side);
  for (let i = 0; i < PROBE_IMAGE_COUNT; i++) {
    const rgb = new Uint8Array(side * side * 3);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) for (let c = 0; c < 3; c++) rgb[(y * side + x) * 3 + c] = byteOf[i](x, y, c);
    out.set(await clipPixelValues({ width: side, height: side, rgb, format: 'png' }, images.preprocessing), i * 3 * side * side);
  }
  return out;
}

export const MIN_COSINE = 0.999;
/** bf16x3 and bf16x3q stand in for fp32, so they are held to the fp32 parity bar (the Python stack's numbers). */
export const MIN_COSINE_BF16X3 = 0.99999;

export type FidelityCheck = 'vectors' | 'sparse-terms' | 'ranking';

export interface FidelityVerdict {
  ok: boolean;
  /** What was compared and the worst figure, or what differed. */
  detail: string;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na === 0 && nb === 0) return 1;
  return dot / Math.sqrt(na * nb);
}

function rows(out: NativeRunOutput): Float32Array[] {
  const count = out.width > 0 ? out.values.length / out.width : 0;
  return Array.from({ length: count }, (_, r) => out.values.subarray(r * out.width, (r + 1) * out.width));
}

function compareVectors(exact: NativeRunOutput, fast: NativeRunOutput, minCosine: number): FidelityVerdict {
  const [a, b] = [rows(exact), rows(fast)];
  if (a.length !== b.length || a.length === 0) return { ok: false, detail: `row counts differ (${a.length} vs ${b.length})` };
  let worst = 1;
  for (let r = 0; r < a.length; r++) worst = Math.min(worst, cosine(a[r], b[r]));
  return { ok: worst >= minCosine, detail: `min cosine ${worst.toFixed(minCosine > 0.9999 ? 8 : 6)} over ${a.length} vectors (gate ${minCosine})` };
}

function compareSparse(exact: NativeRunOutput, fast: NativeRunOutput, maxWeightDiff?: number): FidelityVerdict {
  const offsets = [exact.rowOffsets!, fast.rowOffsets!];
  const inputs = offsets[0].length - 1;
  let worst = 0;
  for (let i = 0; i < inputs; i++) {
    const a = exact.indices!.subarray(offsets[0][i], offsets[0][i + 1]);
    const b = fast.indices!.subarray(offsets[1][i], offsets[1][i + 1]);
    const same = a.length === b.length && a.every((v, j) => v === b[j]);
    if (!same) return { ok: false, detail: `input ${i}: sparse term sets differ (${a.length} vs ${b.length} terms)` };
    for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(exact.values[offsets[0][i] + j] - fast.values[offsets[1][i] + j]));
  }
  if (maxWeightDiff === undefined) return { ok: true, detail: `identical sparse term sets on ${inputs} inputs` };
  return { ok: worst <= maxWeightDiff, detail: `identical sparse term sets on ${inputs} inputs, weights within ${worst.toExponential(2)} (gate ${maxWeightDiff})` };
}

function compareRanking(exact: NativeRunOutput, fast: NativeRunOutput, maxScoreDiff?: number): FidelityVerdict {
  const order = (out: NativeRunOutput) => Array.from(out.values, (_, i) => i).sort((x, y) => out.values[y] - out.values[x]);
  const [a, b] = [order(exact), order(fast)];
  const same = a.length === b.length && a.every((v, i) => v === b[i]);
  if (!same) return { ok: false, detail: `rerank order differs: [${a.join(',')}] vs [${b.join(',')}]` };
  if (maxScoreDiff === undefined) return { ok: true, detail: `identical order of ${a.length} candidates` };
  // The scores users get are the logits' sigmoid (score-functions.ts).
  let worst = 0;
  for (let i = 0; i < exact.values.length; i++) worst = Math.max(worst, Math.abs(sigmoid(exact.values[i]) - sigmoid(fast.values[i])));
  return { ok: worst <= maxScoreDiff, detail: `identical order of ${a.length} candidates, scores within ${worst.toExponential(2)} (gate ${maxScoreDiff})` };
}

/**
 * A multi-output model (bge-m3): every part as vectors; the per-token sparse weights as one vector
 * per batch, and, under a bar with a sparse weight limit, their largest difference too.
 */
function compareParts(exact: NativeRunOutput, fast: NativeRunOutput, bar: FidelityBar): FidelityVerdict {
  const verdicts = Object.entries(exact.parts!).map(([name, a]) => {
    const b = fast.parts?.[name as keyof NonNullable<NativeRunOutput['parts']>];
    if (!a || !b) return { ok: false, detail: `${name}: missing from the fast model` };
    const [exactValues, fastValues] = [a.values, b.values];
    const whole = (o: NativeRunOutput): NativeRunOutput => ({ width: o.values.length, values: o.values });
    if (name !== 'sparse') {
      const verdict = compareVectors(a, b, bar.minCosine);
      return { ok: verdict.ok, detail: `${name}: ${verdict.detail}` };
    }
    const verdict = compareVectors(whole(a), whole(b), bar.minCosine);
    if (bar.maxSparseWeightDiff === undefined || !verdict.ok) return { ok: verdict.ok, detail: `${name}: ${verdict.detail}` };
    let worst = 0;
    for (let i = 0; i < exactValues.length; i++) worst = Math.max(worst, Math.abs(exactValues[i] - fastValues[i]));
    return { ok: worst <= bar.maxSparseWeightDiff, detail: `${name}: ${verdict.detail}, weights within ${worst.toExponential(2)} (gate ${bar.maxSparseWeightDiff})` };
  });
  return { ok: verdicts.every((v) => v.ok), detail: verdicts.map((v) => v.detail).join('; ') };
}

/** How close a fast dtype must come: bf16's bar, or bf16x3's, which is fp32's parity bar. */
export interface FidelityBar {
  minCosine: number;
  /** Sparse weights' largest difference from fp32, checked beside the term sets when set. */
  maxSparseWeightDiff?: number;
  /** Rerank scores' largest difference from fp32, checked beside the order when set. */
  maxScoreDiff?: number;
}
export const BF16_BAR: FidelityBar = { minCosine: MIN_COSINE };
export const BF16X3_BAR: FidelityBar = { minCosine: MIN_COSINE_BF16X3, maxSparseWeightDiff: 1e-4, maxScoreDiff: 1e-5 };

export function compareOutputs(check: FidelityCheck, exact: NativeRunOutput, fast: NativeRunOutput, bar: FidelityBar = BF16_BAR): FidelityVerdict {
  const minCosine = bar.minCosine;
  if (exact.parts) return compareParts(exact, fast, bar);
  if (check === 'sparse-terms') return compareSparse(exact, fast, bar.maxSparseWeightDiff);
  if (check === 'ranking') return compareRanking(exact, fast, bar.maxScoreDiff);
  return compareVectors(exact, fast, minCosine);
}

/** What "answers like" means for a model: its ranking for scorers, its term sets for sparse encoders, its vectors otherwise. */
export function fidelityCheckOf(adapter: ModelAdapter): FidelityCheck {
  if (adapter.scorer) return 'ranking';
  if (adapter.encoder?.outputs.includes('sparse')) return 'sparse-terms';
  return 'vectors';
}
