/**
 * The typed face of the native addon (bindings/). node-gyp-build finds a prebuilt binary in
 * prebuilds/ or the local CMake build in build/Release. A backend (CPU today, CUDA next) loads
 * model descriptions into models; a model runs padding-free token batches. Threads, weight
 * layout and device memory stay on the native side.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The heads the native engine can build (native/cpu/heads/head_registry.cpp); tests check both lists agree. */
export const NATIVE_HEAD_KINDS = ['pooled', 'token-projection', 'splade', 'sequence-classifier', 'token-classifier'] as const;
export type NativeHeadKind = (typeof NATIVE_HEAD_KINDS)[number];

/** The encoder's shape, from config.json. */
export interface EncoderShape {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
}

export interface NativeHeadOptions {
  kind: NativeHeadKind;
  pooling?: 'mean' | 'cls' | 'last';
  normalize?: boolean;
  projectionPath?: string;
  outputSize?: number;
}

/** Everything a backend needs to load one model (native/backend/model_description.h). */
export type WeightDtype = 'fp32' | 'bf16';

export interface NativeModelDescription {
  architecture: 'bert';
  /** Weights of the matrix products (default fp32); bf16 only where the backend lists it in dtypes. */
  dtype?: WeightDtype;
  weightsPath: string;
  encoder: EncoderShape;
  head: NativeHeadOptions;
}

/** A model's result: rows of `width` values, or sparse rows (indices/values split by rowOffsets). */
export interface NativeRunOutput {
  width: number;
  values: Float32Array;
  indices?: Int32Array;
  rowOffsets?: Int32Array;
}

export interface NativeModelInfo {
  weightBytes?: number;
  workspaceBytes?: number;
  maxBatchesInFlight?: number;
}

export interface NativeModel {
  run(ids: Int32Array, typeIds: Int32Array, offsets: Int32Array): Promise<NativeRunOutput>;
  readonly info: NativeModelInfo;
  dispose(): void;
}

export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

export interface NativeBackend {
  readonly device: string;
  /** Weight dtypes this backend computes natively here (always 'fp32'; 'bf16' with AVX512-BF16 or AMX). */
  readonly dtypes: WeightDtype[];
  loadModel(description: NativeModelDescription): Promise<NativeModel>;
  memory(): { device: string; usedBytes: number; totalBytes: number };
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
  readonly gemmKernel: string;
  gemmBf16(x: Float32Array, w: Float32Array, bias: Float32Array | null, m: number, n: number, k: number, kernel: 'amx' | 'avx512bf16' | 'reference', threads?: number, gelu?: boolean): Float32Array;
  /** The ISA level the hardware offers and the one in use (SIE_CPU_ISA caps it). */
  readonly cpuIsa: { detected: string; active: string };
}

export interface NativeAddon {
  openBackend(options: { device?: Device; threads?: number }): NativeBackend;
  /** The tensor table of a safetensors file, validated by the loader's own parser; throws BAD_WEIGHTS. */
  inspectSafetensors(path: string): SafetensorsEntry[];
  readonly errorCodes: string[];
  readonly headKinds: string[];
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

/** The package root: dist/lib/bindings -> three levels up. */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}
