/** Small numeric functions applied to head outputs in JS: Matryoshka truncation, sigmoid, softmax. */

export function truncateAndNormalize(vector: Float32Array, dims: number): Float32Array {
  const out = vector.slice(0, dims);
  let sum = 0;
  for (const v of out) sum += v * v;
  const inv = 1 / Math.max(Math.sqrt(sum), 1e-12);
  for (let i = 0; i < dims; i++) out[i] *= inv;
  return out;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function softmax(values: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i]);
  const exps = Array.from(values, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}
