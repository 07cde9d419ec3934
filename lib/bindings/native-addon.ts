/**
 * The typed face of the native addon (bindings/). node-gyp-build finds a prebuilt binary in
 * prebuilds/ or the local CMake build in build/Release. A backend (CPU or CUDA) loads
 * model descriptions into models; a model runs padding-free token batches. Threads, weight
 * layout and device memory stay on the native side.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The heads the native engine can build (native/cpu/heads/head_registry.cpp); tests check both lists agree. */
export const NATIVE_HEAD_KINDS = ['pooled', 'token-projection', 'splade', 'sequence-classifier', 'bge-m3', 'token-classifier', 'modernbert-classifier', 'clip-text'] as const;
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
  /** XLM-R/RoBERTa: position ids count non-pad tokens from pad_token_id + 1. Absent for BERT. */
  positionPaddingIdx?: number;
  /** Rotary encoders (ModernBERT, GTE NewModel, Qwen3). */
  numKvHeads?: number;
  headDim?: number;
  ropeTheta?: number;
  localRopeTheta?: number;
  ropeNtkFactor?: number;
  globalAttnEveryNLayers?: number;
  localAttention?: number;
  causal?: boolean;
  hiddenAct?: 'gelu' | 'silu' | 'quick_gelu';
}

export interface NativeHeadOptions {
  kind: NativeHeadKind;
  pooling?: 'mean' | 'cls' | 'last';
  normalize?: boolean;
  /** token-projection: 1_Dense weights; bge-m3: colbert_linear.pt. */
  projectionPath?: string;
  /** bge-m3: sparse_linear.pt. */
  sparsePath?: string;
  outputSize?: number;
  /** clip-text: pool at the first position holding this id; unset: at the largest id (legacy eos_token_id 2). */
  poolTokenId?: number;
}

/** CLIP's vision tower (architecture 'clip'; the text tower is `encoder`). */
export interface VisionTowerShape {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  imageSize: number;
  patchSize: number;
  layerNormEps: number;
  hiddenAct: 'quick_gelu' | 'gelu';
}

/** Everything a backend needs to load one model (native/backend/model_description.h). */
export type WeightDtype = 'fp32' | 'fp16' | 'bf16' | 'bf16x3' | 'bf16x3q';

export interface NativeModelDescription {
  architecture: 'bert' | 'xlm-roberta' | 'modernbert' | 'gte-new' | 'qwen3' | 'clip';
  /** Weights of the matrix products (default fp32); bf16 only where the backend lists it in dtypes. */
  dtype?: WeightDtype;
  /** A bf16 model keeps attention (Q·Kᵀ, softmax, P·V) in fp32: the fidelity gate's second try. */
  fp32Attention?: boolean;
  weightsPath: string;
  encoder: EncoderShape;
  head: NativeHeadOptions;
  vision?: VisionTowerShape;
}

/**
 * A model's result: rows of `width` values (one per sequence, per token, or, with rowOffsets and
 * no indices, rows rowOffsets[i]..rowOffsets[i+1] for sequence i), or sparse entries (indices and
 * values split by rowOffsets). Multi-output heads (bge-m3) return their outputs as named parts.
 */
export interface NativeRunOutput {
  width: number;
  values: Float32Array;
  indices?: Int32Array;
  rowOffsets?: Int32Array;
  parts?: Partial<Record<'dense' | 'sparse' | 'multivector', NativeRunOutput>>;
}

export interface NativeModelInfo {
  weightBytes?: number;
  workspaceBytes?: number;
  maxBatchesInFlight?: number;
}

export interface NativeModel {
  /** `outputs`: what a multi-output head computes (default all); single-output heads ignore it. */
  run(ids: Int32Array, typeIds: Int32Array, offsets: Int32Array, outputs?: ReadonlyArray<'dense' | 'sparse' | 'multivector'>): Promise<NativeRunOutput>;
  /**
   * The same outputs, computed on the calling (event loop) thread if the backend is idle right
   * now; null if it is busy or runs its batches on a device. For a lone short request.
   */
  runNow?(ids: Int32Array, typeIds: Int32Array, offsets: Int32Array, outputs?: ReadonlyArray<'dense' | 'sparse' | 'multivector'>): NativeRunOutput | null;
  /** CLIP: `count` preprocessed images (3 x height x width pixel values each, CHW); INVALID_INPUT for other models. */
  runImages(pixels: Float32Array, count: number, height: number, width: number): Promise<NativeRunOutput>;
  readonly info: NativeModelInfo;
  dispose(): void;
}

export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

export interface NativeBackend {
  readonly device: string;
  /** Weight dtypes this backend computes natively here (always 'fp32'; 'bf16' with AVX512-BF16 or AMX; 'bf16x3' and 'bf16x3q' with AMX). */
  readonly dtypes: WeightDtype[];
  loadModel(description: NativeModelDescription): Promise<NativeModel>;
  memory(): { device: string; usedBytes: number; totalBytes: number };
}

export interface WeightEntry {
  name: string;
  dtype: string;
  shape: number[];
}

/** Individual kernels and their reference twins, for tests and microbenchmarks. */
export interface NativeKernelProbes {
  gemm(x: Float32Array, w: Float32Array, bias: Float32Array | null, m: number, n: number, k: number, reference: boolean, threads?: number, gelu?: boolean): Float32Array;
  gelu(x: Float32Array, reference: boolean): Float32Array;
  /** x * sigmoid(alpha x): SiLU (1) and quick_gelu (1.702). */
  sigmoidGate(x: Float32Array, alpha: number, reference: boolean): Float32Array;
  softmax(x: Float32Array, rows: number, cols: number, reference: boolean): Float32Array;
  /** Softmax rows as bf16 probabilities (decoded), rows x cols rounded up to 32, zero padded; the fast body needs AVX512-BF16. */
  softmaxBf16(x: Float32Array, rows: number, cols: number, reference: boolean): Float32Array;
  /** With withBf16Copy, the result is followed by the rows' bf16 copy (decoded, rows padded to 32), as a bf16 model's next GEMM reads it. */
  addLayerNorm(x: Float32Array, residual: Float32Array | null, gamma: Float32Array, beta: Float32Array, rows: number, cols: number, eps: number, reference: boolean, withBf16Copy?: boolean): Float32Array;
  readonly gemmKernel: string;
  /** Attention's bf16 GEMM: w is [n][k] ('nk', keys) or [k][n] ('kn', values), rows `ld` apart, packed per call. */
  gemmBf16Panels(x: Float32Array, w: Float32Array, m: number, n: number, k: number, layout: 'nk' | 'kn', kernel: 'amx' | 'avx512bf16', ld: number): Float32Array;
  /** One head's bf16 attention over <= 32 tokens: the register kernel, the general route or the double twin. */
  attentionShortBf16(qkv: Float32Array, length: number, headDim: number, ld: number, kOffset: number, vOffset: number, rowBegin: number, rowEnd: number, route: 'short' | 'general' | 'reference'): Float32Array;
  /** Attention's packing of bf16 keys ('nk') or values ('kn') into panels in either order the kernels read ('rows': AVX512-BF16, 'amx-tiles': AMX). */
  packBf16FromBf16(w: Float32Array, n: number, k: number, ld: number, layout: 'nk' | 'kn', packer: 'avx512' | 'reference' | 'fp32', order: 'rows' | 'amx-tiles'): Uint16Array;
  gemmBf16(x: Float32Array, w: Float32Array, bias: Float32Array | null, m: number, n: number, k: number, kernel: 'amx' | 'avx512bf16' | 'reference' | 'bf16x3' | 'bf16x3-reference' | 'bf16x3q' | 'bf16x3q-reference', threads?: number, gelu?: boolean): Float32Array;
  /** The ISA level the hardware offers and the one in use (SIE_CPU_ISA caps it). */
  readonly cpuIsa: { detected: string; active: string };
}

/** Where the crop sits in the resized image (left/top negative: it pads), and the value mapping. */
export interface ClipPixelSpec {
  resizeWidth: number;
  resizeHeight: number;
  left: number;
  top: number;
  cropWidth: number;
  cropHeight: number;
  /** Multiplies each byte (in float64, then rounded to float32); null: none. */
  rescale: number | null;
  /** (value - mean) / std per channel in float32; null: none. */
  mean: [number, number, number] | null;
  std: [number, number, number] | null;
}

/** Native image operations (bindings/image_ops.cpp). */
export interface NativeImageOps {
  /** Pillow-exact Image.BICUBIC resize of RGB bytes (width x height x 3); 'reference' runs the plain twin (for tests). */
  resizeBicubicRgb(rgb: Uint8Array, width: number, height: number, outWidth: number, outHeight: number, twin?: 'reference'): Promise<Uint8Array>;
  /** CLIP's pixel values, CHW float32: the resize's crop window, rescaled and normalised (native/image/clip_pixel_values.h). */
  clipPixelValues(rgb: Uint8Array, width: number, height: number, spec: ClipPixelSpec): Promise<Float32Array>;
}

/** Hot formatting for the HTTP routes (bindings/wire_format.cpp). */
export interface NativeWireFormat {
  /** Each vector as JSON array text, every value in its shortest float32 form (non-finite: null). */
  /** The fastest printer this CPU runs, unless 'scalar' or 'reference' (std::to_chars, the twin) is named (for tests). */
  float32JsonArrays(vectors: ReadonlyArray<Float32Array>, printer?: 'scalar' | 'reference'): string[];
  /**
   * Writes parts[0] + json(vectors[0]) + parts[1] + ... + parts[n] as UTF-8 bytes into target
   * (parts has one entry more than vectors) and returns the bytes written; where target may be
   * too small, writes nothing and returns minus the capacity it needs.
   */
  float32JsonJoinInto(vectors: ReadonlyArray<Float32Array>, parts: ReadonlyArray<string>, target: Uint8Array): number;
}

export interface NativeAddon {
  openBackend(options: { device?: Device; threads?: number; workspaceTokens?: number }): NativeBackend;
  /** The tensor table of a checkpoint (safetensors, torch zip, shard index), validated by the loader's own readers; throws BAD_WEIGHTS. */
  inspectWeights(path: string): WeightEntry[];
  readonly errorCodes: string[];
  readonly headKinds: string[];
  kernels: NativeKernelProbes;
  images: NativeImageOps;
  wire: NativeWireFormat;
}

/**
 * The two builds of the addon. 'cpu' is the default prebuilt (prebuilds/linux-x64). 'cuda' is the
 * same engine with the CUDA backend added (README: GPU): a local CMake build (build/Cuda) or the
 * CUDA prebuilt (prebuilds/linux-x64-cuda), or the file SIE_CUDA_ADDON names. It serves the CPU
 * too, and loads on machines without a GPU or driver.
 */
export type AddonBuild = 'cpu' | 'cuda';
const addons = new Map<AddonBuild, NativeAddon>();

/** Loads an addon build once per process (module-level cache of an immutable binding). */
export function nativeAddon(build: AddonBuild = 'cpu'): NativeAddon {
  let loaded = addons.get(build);
  if (!loaded) {
    const require = createRequire(import.meta.url);
    if (build === 'cpu') {
      const load = require('node-gyp-build') as (dir: string) => NativeAddon;
      loaded = load(packageRoot());
    } else {
      const file = cudaAddonPath();
      if (!file) {
        throw Object.assign(new Error('this install of sie-server has no CUDA build; reinstall with SIE_CUDA=1 (README: GPU) or use --device cpu'), { code: 'DEVICE_UNAVAILABLE' });
      }
      loaded = require(file) as NativeAddon;
    }
    addons.set(build, loaded);
  }
  return loaded;
}

/** The CUDA build of the addon, where this install has one. */
export function cudaAddonPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const root = packageRoot();
  const candidates = [
    env.SIE_CUDA_ADDON,
    path.join(root, 'build', 'Cuda', 'sie_native_cuda.node'),
    path.join(root, 'prebuilds', `${process.platform}-${process.arch}-cuda`, 'sie-server.node'),
  ];
  return candidates.find((file): file is string => typeof file === 'string' && file.length > 0 && existsSync(file));
}

/** The package root: dist/lib/bindings -> three levels up. */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}
