/**
 * A model directory's Hugging Face and sentence-transformers files, read once: config.json,
 * modules.json (the sentence-transformers pipeline), the pooling config, sentence_bert_config.json
 * and config_sentence_transformers.json. Families detect themselves from this; nothing else
 * reads these files.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors/engine-error.js';

export type PoolingMode = 'mean' | 'cls' | 'last';

export interface ModuleEntry {
  path?: string;
  type?: string;
}

export interface Checkpoint {
  directory: string;
  config: Record<string, unknown>;
  architectures: string[];
  /** modules.json, when the directory is a sentence-transformers model. */
  modules?: ModuleEntry[];
  /** Where the transformer's own files live (modules.json's Transformer path). */
  transformerDir: string;
  /** config_sentence_transformers.json (prompts, PyLate markers), or {}. */
  sentenceTransformers: Record<string, unknown>;
}

export function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    throw new EngineError('BAD_CONFIG', `cannot read ${path.basename(file)}: ${(error as Error).message}`, { cause: error });
  }
}

export function readJsonIfPresent(file: string): Record<string, unknown> | undefined {
  return existsSync(file) ? (readJson(file) as Record<string, unknown>) : undefined;
}

/** Joins a path from a config file under the model directory, refusing anything that escapes it. */
export function safeJoin(directory: string, relative: string): string {
  const joined = path.resolve(directory, relative);
  const root = path.resolve(directory);
  if (joined !== root && !joined.startsWith(root + path.sep)) {
    throw new EngineError('BAD_CONFIG', `module path '${relative}' points outside the model directory`);
  }
  return joined;
}

export function readCheckpoint(directory: string): Checkpoint {
  const configPath = path.join(directory, 'config.json');
  if (!existsSync(configPath)) throw new EngineError('BAD_CONFIG', `${directory} has no config.json`);
  const config = readJson(configPath) as Record<string, unknown>;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new EngineError('BAD_CONFIG', 'config.json must be an object');
  const modules = readJsonIfPresent(path.join(directory, 'modules.json')) as unknown;
  if (modules !== undefined && !Array.isArray(modules)) throw new EngineError('BAD_CONFIG', 'modules.json must be an array');
  const entries = modules as ModuleEntry[] | undefined;
  const transformer = entries?.find((m) => typeof m.type === 'string' && m.type.endsWith('.Transformer'));
  return {
    directory,
    config,
    architectures: Array.isArray(config.architectures) ? config.architectures.filter((a): a is string => typeof a === 'string') : [],
    modules: entries,
    transformerDir: safeJoin(directory, transformer?.path ?? ''),
    sentenceTransformers: readJsonIfPresent(path.join(directory, 'config_sentence_transformers.json')) ?? {},
  };
}

/** The first sentence-transformers module whose type ends with `.suffix` (e.g. "Pooling"). */
export function findModule(checkpoint: Checkpoint, suffix: string): ModuleEntry | undefined {
  return checkpoint.modules?.find((m) => typeof m.type === 'string' && m.type.endsWith(`.${suffix}`));
}

/** Pooling and normalisation as sentence-transformers builds its pipeline. */
export function readPooling(checkpoint: Checkpoint): { pooling: PoolingMode; normalize: boolean } {
  // sentence-transformers wraps a bare transformer in mean pooling without normalisation.
  if (!checkpoint.modules) return { pooling: 'mean', normalize: false };
  const poolingModule = findModule(checkpoint, 'Pooling');
  const normalize = findModule(checkpoint, 'Normalize') !== undefined;
  if (!poolingModule) return { pooling: 'mean', normalize };
  const config = readJsonIfPresent(path.join(safeJoin(checkpoint.directory, poolingModule.path ?? ''), 'config.json')) ?? {};
  return { pooling: poolingFromConfig(config), normalize };
}

function poolingFromConfig(config: Record<string, unknown>): PoolingMode {
  const mode = config.pooling_mode;
  if (typeof mode === 'string') {
    if (mode === 'mean' || mode === 'cls') return mode;
    if (mode === 'lasttoken') return 'last';
    throw new EngineError('BAD_CONFIG', `pooling mode '${mode}' is not supported (supported: mean, cls, lasttoken)`);
  }
  const enabled = (['cls_token', 'mean_tokens', 'max_tokens', 'mean_sqrt_len_tokens', 'weightedmean_tokens', 'lasttoken'] as const)
    .filter((key) => config[`pooling_mode_${key}`] === true);
  if (enabled.length !== 1) {
    throw new EngineError('BAD_CONFIG', `1_Pooling/config.json must enable exactly one supported pooling mode, found: ${enabled.join(', ') || 'none'}`);
  }
  const chosen = enabled[0];
  if (chosen === 'cls_token') return 'cls';
  if (chosen === 'mean_tokens') return 'mean';
  if (chosen === 'lasttoken') return 'last';
  throw new EngineError('BAD_CONFIG', `pooling mode '${chosen}' is not supported (supported: mean, cls, lasttoken)`);
}

/** Tokens per sequence including special tokens: sentence-transformers' max_seq_length, else the tokenizer's, capped by the positions. */
export function readMaxSeqLength(checkpoint: Checkpoint, maxPositions: number): number {
  const sbert = readJsonIfPresent(path.join(checkpoint.transformerDir, 'sentence_bert_config.json'))
    ?? readJsonIfPresent(path.join(checkpoint.directory, 'sentence_bert_config.json'));
  const fromSbert = sbert?.max_seq_length;
  if (typeof fromSbert === 'number' && Number.isInteger(fromSbert) && fromSbert > 0) return Math.min(fromSbert, maxPositions);
  const tokenizerConfig = readJsonIfPresent(path.join(checkpoint.directory, 'tokenizer_config.json'));
  const fromTokenizer = tokenizerConfig?.model_max_length;
  if (typeof fromTokenizer === 'number' && fromTokenizer > 0 && fromTokenizer < 1e6) return Math.min(fromTokenizer, maxPositions);
  return maxPositions;
}

/** Label names by index from id2label (or LABEL_i for num_labels). */
export function readLabels(config: Record<string, unknown>): string[] {
  const id2label = config.id2label;
  if (id2label && typeof id2label === 'object') {
    const entries = Object.entries(id2label as Record<string, unknown>);
    const labels: string[] = [];
    for (const [key, value] of entries) {
      const index = Number(key);
      if (!Number.isInteger(index) || index < 0 || index >= entries.length || typeof value !== 'string') {
        throw new EngineError('BAD_CONFIG', 'config.json: id2label must map 0..n-1 to label names');
      }
      labels[index] = value;
    }
    return labels;
  }
  const count = typeof config.num_labels === 'number' ? config.num_labels : 2;
  return Array.from({ length: count }, (_, i) => `LABEL_${i}`);
}

/**
 * The transformer's weights, in order of preference: safetensors (one file or sharded), then a
 * torch checkpoint (one file or sharded), read by the native restricted unpickler. When both
 * formats exist safetensors wins.
 */
export const WEIGHT_FILE_NAMES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'] as const;

export function weightsPathOf(checkpoint: Checkpoint): string {
  for (const name of WEIGHT_FILE_NAMES) {
    const candidate = path.join(checkpoint.transformerDir, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new EngineError('BAD_WEIGHTS', `${checkpoint.directory} has no weights (looked for ${WEIGHT_FILE_NAMES.join(', ')})`);
}
