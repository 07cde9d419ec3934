/** Paths and readers for the shared reference data (../shared beside the checkout). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/test/helpers -> repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const sharedDir = process.env.SIE_SHARED_DIR ?? path.resolve(repoRoot, '..', 'shared');
export const referenceDir = path.join(sharedDir, 'reference');
export const toolsDir = path.join(sharedDir, 'tools');

export function referenceModel(name: string): string {
  return path.join(referenceDir, 'models', name);
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

export interface ReferenceTokens {
  ids: number[];
  type_ids: number[];
  offsets: Array<[number, number]>;
}

export const sentences = (): string[] => readJson<string[]>(path.join(referenceDir, 'sentences.json'));
export const sentenceTokens = (file = 'sentences.tokens.json'): ReferenceTokens[] => readJson(path.join(referenceDir, 'outputs', file));

/** Vectors of different lengths (an empty or short output) fail loudly rather than compare a prefix. */
function sameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length || a.length === 0) throw new Error(`cannot compare vectors of lengths ${a.length} and ${b.length}`);
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  sameLength(a, b);
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  sameLength(a, b);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A temporary directory removed when the test ends. */
export function tempDir(t: { teardown: (fn: () => void) => void }, prefix = 'sie-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Seeded random floats in [-1, 1) (mulberry32), so failures reproduce. */
export function randomFloats(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}
