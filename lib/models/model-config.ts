/**
 * Reads a model directory's Hugging Face and sentence-transformers files into a ModelSpec: the
 * encoder shape, the pooling and normalisation exactly as sentence-transformers would apply
 * them, and the maximum sequence length.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EngineError } from '../engine/engine-error.js';

export type PoolingMode = 'mean' | 'cls' | 'last';

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

/** What a checkpoint's head computes, detected as transformers / sentence-transformers would. */
export type HeadSpec =
  | { kind: 'dense'; pooling: PoolingMode; normalize: boolean }
  | { kind: 'colbert'; projectionPath: string; outputSize: number; queryPrefix?: string; documentPrefix?: string; skiplistWords: string[] }
  | { kind: 'splade' }
  | { kind: 'sequence-classifier'; labels: string[]; multiLabel: boolean }
  | { kind: 'token-classifier'; labels: string[] };

export interface ModelSpec {
  head: HeadSpec;
  directory: string;
  weightsPath: string;
  encoder: EncoderShape;
  /** Tokens per sequence including special tokens; longer inputs are truncated or refused. */
  maxSeqLength: number;
  architectures: string[];
}

interface ModuleEntry {
  path?: string;
  type?: string;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    throw new EngineError('BAD_CONFIG', `cannot read ${path.basename(file)}: ${(error as Error).message}`, { cause: error });
  }
}

function readJsonIfPresent(file: string): Record<string, unknown> | undefined {
  return existsSync(file) ? (readJson(file) as Record<string, unknown>) : undefined;
}

function positiveInt(config: Record<string, unknown>, key: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new EngineError('BAD_CONFIG', `config.json: ${key} must be a positive integer`);
  }
  return value;
}

function readEncoderShape(config: Record<string, unknown>): EncoderShape {
  const modelType = config.model_type;
  if (modelType !== undefined && modelType !== 'bert') {
    throw new EngineError('BAD_CONFIG', `config.json: model_type '${String(modelType)}' is not supported (supported: bert)`);
  }
  const act = config.hidden_act ?? 'gelu';
  if (act !== 'gelu') throw new EngineError('BAD_CONFIG', `config.json: hidden_act '${String(act)}' is not supported (supported: gelu)`);
  const positions = config.position_embedding_type ?? 'absolute';
  if (positions !== 'absolute') {
    throw new EngineError('BAD_CONFIG', `config.json: position_embedding_type '${String(positions)}' is not supported`);
  }
  const eps = config.layer_norm_eps ?? 1e-12;
  if (typeof eps !== 'number' || !(eps > 0)) throw new EngineError('BAD_CONFIG', 'config.json: layer_norm_eps must be a positive number');
  return {
    hiddenSize: positiveInt(config, 'hidden_size'),
    numLayers: positiveInt(config, 'num_hidden_layers'),
    numHeads: positiveInt(config, 'num_attention_heads'),
    intermediateSize: positiveInt(config, 'intermediate_size'),
    vocabSize: positiveInt(config, 'vocab_size'),
    maxPositions: positiveInt(config, 'max_position_embeddings', 512),
    typeVocabSize: positiveInt(config, 'type_vocab_size', 2),
    layerNormEps: eps,
  };
}

/** Pooling and normalisation from modules.json, as sentence-transformers builds its pipeline. */
function readPipeline(directory: string): { pooling: PoolingMode; normalize: boolean; transformerPath: string; denseModule?: ModuleEntry } {
  const modules = readJsonIfPresent(path.join(directory, 'modules.json')) as unknown;
  if (modules === undefined) {
    // sentence-transformers wraps a bare transformer in mean pooling without normalisation.
    return { pooling: 'mean', normalize: false, transformerPath: '' };
  }
  if (!Array.isArray(modules)) throw new EngineError('BAD_CONFIG', 'modules.json must be an array');
  const entries = modules as ModuleEntry[];
  const transformer = entries.find((m) => typeof m.type === 'string' && m.type.endsWith('.Transformer'));
  const poolingModule = entries.find((m) => typeof m.type === 'string' && m.type.endsWith('.Pooling'));
  const normalize = entries.some((m) => typeof m.type === 'string' && m.type.endsWith('.Normalize'));
  let pooling: PoolingMode = 'mean';
  if (poolingModule) {
    const poolingDir = safeJoin(directory, poolingModule.path ?? '');
    const config = readJsonIfPresent(path.join(poolingDir, 'config.json')) ?? {};
    pooling = poolingFromConfig(config);
  }
  const denseModule = entries.find((m) => typeof m.type === 'string' && m.type.endsWith('.Dense'));
  return { pooling, normalize, transformerPath: transformer?.path ?? '', denseModule };
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

/** Joins a path from a config file under the model directory, refusing anything that escapes it. */
function safeJoin(directory: string, relative: string): string {
  const joined = path.resolve(directory, relative);
  const root = path.resolve(directory);
  if (joined !== root && !joined.startsWith(root + path.sep)) {
    throw new EngineError('BAD_CONFIG', `module path '${relative}' points outside the model directory`);
  }
  return joined;
}

function readMaxSeqLength(directory: string, transformerDir: string, maxPositions: number): number {
  const sbert = readJsonIfPresent(path.join(transformerDir, 'sentence_bert_config.json'))
    ?? readJsonIfPresent(path.join(directory, 'sentence_bert_config.json'));
  const fromSbert = sbert?.max_seq_length;
  if (typeof fromSbert === 'number' && Number.isInteger(fromSbert) && fromSbert > 0) return Math.min(fromSbert, maxPositions);
  const tokenizerConfig = readJsonIfPresent(path.join(directory, 'tokenizer_config.json'));
  const fromTokenizer = tokenizerConfig?.model_max_length;
  if (typeof fromTokenizer === 'number' && fromTokenizer > 0 && fromTokenizer < 1e6) return Math.min(fromTokenizer, maxPositions);
  return maxPositions;
}

function labelsOf(config: Record<string, unknown>): string[] {
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

function readHead(directory: string, config: Record<string, unknown>, architectures: string[], pipeline: ReturnType<typeof readPipeline>): HeadSpec {
  if (architectures.includes('BertForMaskedLM')) return { kind: 'splade' };
  if (architectures.includes('BertForSequenceClassification')) {
    return { kind: 'sequence-classifier', labels: labelsOf(config), multiLabel: config.problem_type === 'multi_label_classification' };
  }
  if (architectures.includes('BertForTokenClassification')) return { kind: 'token-classifier', labels: labelsOf(config) };
  if (pipeline.denseModule && (pipeline.denseModule.type ?? '').startsWith('pylate.')) {
    const denseDir = safeJoin(directory, pipeline.denseModule.path ?? '');
    const dense = readJsonIfPresent(path.join(denseDir, 'config.json')) ?? {};
    const outputSize = dense.out_features;
    if (typeof outputSize !== 'number' || !Number.isInteger(outputSize) || outputSize < 1) {
      throw new EngineError('BAD_CONFIG', `${pipeline.denseModule.path}/config.json: out_features must be a positive integer`);
    }
    const st = readJsonIfPresent(path.join(directory, 'config_sentence_transformers.json')) ?? {};
    const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
    return {
      kind: 'colbert',
      projectionPath: path.join(denseDir, 'model.safetensors'),
      outputSize,
      queryPrefix: str(st.query_prefix),
      documentPrefix: str(st.document_prefix),
      skiplistWords: Array.isArray(st.skiplist_words) ? st.skiplist_words.filter((w): w is string => typeof w === 'string') : [],
    };
  }
  return { kind: 'dense', pooling: pipeline.pooling, normalize: pipeline.normalize };
}

export function readModelSpec(directory: string): ModelSpec {
  const configPath = path.join(directory, 'config.json');
  if (!existsSync(configPath)) throw new EngineError('BAD_CONFIG', `${directory} has no config.json`);
  const config = readJson(configPath) as Record<string, unknown>;
  if (typeof config !== 'object' || config === null) throw new EngineError('BAD_CONFIG', 'config.json must be an object');
  const encoder = readEncoderShape(config);
  const pipeline = readPipeline(directory);
  const transformerDir = safeJoin(directory, pipeline.transformerPath);
  const weightsPath = path.join(transformerDir, 'model.safetensors');
  if (!existsSync(weightsPath)) {
    const hasBin = existsSync(path.join(transformerDir, 'pytorch_model.bin'));
    throw new EngineError('BAD_WEIGHTS', hasBin
      ? `${directory} has only pytorch_model.bin; sie-server loads model.safetensors (pickle files are not loaded for safety)`
      : `${directory} has no model.safetensors`);
  }
  const architectures = Array.isArray(config.architectures) ? config.architectures.filter((a): a is string => typeof a === 'string') : [];
  return {
    head: readHead(directory, config, architectures, pipeline),
    directory,
    weightsPath,
    encoder,
    maxSeqLength: readMaxSeqLength(directory, transformerDir, encoder.maxPositions),
    architectures,
  };
}
