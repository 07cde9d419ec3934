/**
 * The typed face of the native addon (bindings/). node-gyp-build finds a prebuilt binary in
 * prebuilds/ or the local CMake build in build/Release.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { EncoderShape } from '../models/model-config.js';

export interface NativeComputePool {
  readonly threads: number;
}

/** The encoder's shape (from config.json) plus which head to build. */
export interface ModelLoadOptions extends EncoderShape {
  weightsPath: string;
  head: 'pooled' | 'token-projection' | 'splade' | 'sequence-classifier' | 'token-classifier';
  pooling?: 'mean' | 'cls' | 'last';
  normalize?: boolean;
  projectionPath?: string;
  outputSize?: number;
}

/** A head's result: rows of `width` values, or sparse rows (indices/values split by rowOffsets). */
export interface NativeRunOutput {
  width: number;
  values: Float32Array;
  indices?: Int32Array;
  rowOffsets?: Int32Array;
}

export interface NativeModel {
  run(pool: NativeComputePool, ids: Int32Array, typeIds: Int32Array, offsets: Int32Array): Promise<NativeRunOutput>;
  readonly info: { weightBytes?: number; workspaceBytes?: number };
  dispose(): void;
}

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
}

/** Individual kernels and their reference twins, for tests and microbenchmarks. */
export interface NativeKernelProbes {
  gemm(x: Float32Array, w: Float32Array, bias: Float32Array | null, m: number, n: number, k: number, reference: boolean, threads?: number, gelu?: boolean): Float32Array;
  gelu(x: Float32Array, reference: boolean): Float32Array;
  softmax(x: Float32Array, rows: number, cols: number, reference: boolean): Float32Array;
  addLayerNorm(x: Float32Array, residual: Float32Array | null, gamma: Float32Array, beta: Float32Array, rows: number, cols: number, eps: number, reference: boolean): Float32Array;
  inspectSafetensors(path: string): SafetensorsEntry[];
  readonly gemmKernel: string;
}

export interface NativeAddon {
  ComputePool: new (threads?: number) => NativeComputePool;
  loadModel(options: ModelLoadOptions): Promise<NativeModel>;
  kernels: NativeKernelProbes;
}

let addon: NativeAddon | undefined;

/** Loads the addon once per process (module-level cache of an immutable binding). */
export function nativeAddon(): NativeAddon {
  if (!addon) {
    const require = createRequire(import.meta.url);
    const load = require('node-gyp-build') as (dir: string) => NativeAddon;
    addon = load(packageRoot());
  }
  return addon;
}

/** The package root: dist/lib/engine -> three levels up. */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}
