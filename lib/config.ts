/**
 * The server's configuration: one typed object built once from CLI flags, environment
 * variables and defaults (in that order of precedence), then passed down.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BundleError, readBundle, type Bundle } from './bundles/bundle-file.js';
import type { ModelSettings } from './engine/model-settings.js';

export interface ServeConfig {
  models: string[];
  host: string;
  port: number;
  modelsDirs: string[];
  threads: number;
  maxBatchTokens: number;
  maxInputsPerRequest: number;
  bodyLimitBytes: number;
  sieBodyLimitBytes: number;
  logLevel: string;
  memoryBudgetBytes: number;
  pinned: string[];
  apiKey?: string;
  privateMetrics: boolean;
  batchWaitMs: number;
  /** A lone request of at most this many tokens runs on the event loop's thread when the engine is idle (0: never). */
  inlineMaxTokens: number;
  maxQueuedTokensPerModel: number;
  overloadStatus: 503 | 429;
  loadWaitMs: number;
  /** SIE routes: how long a request waits for a cold model before 503 MODEL_LOADING + Retry-After. */
  coldLoadWaitMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  device: 'auto' | 'cpu' | 'cuda' | `cuda:${number}`;
  dtype: 'auto' | 'fp32' | 'fp16' | 'bf16' | 'bf16x3' | 'bf16x3q';
  /** JSON log lines (default); SIE_LOG_JSON=0 gives readable lines. */
  logJson: boolean;
  /** A bundle's per-model settings (--bundle / SIE_BUNDLE). */
  bundleModels: ModelSettings[];
  /** Infinity's image routes fetch http(s) URLs (off by default; lib/images/image-url-fetch.ts). */
  imageUrls: { allowed: boolean; allowPrivate: boolean; maxBytes: number; timeoutMs: number; maxRedirects: number };
}

export class ConfigError extends Error {}

const DEFAULT_MODEL = 'sentence-transformers/all-MiniLM-L6-v2';

function integer(value: string | undefined, name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got '${value}'`);
  return n;
}

/** Flags from an object keyed by long flag names ({"port": 8080, "model": ["a", "b"]}). */
function flagsOf(values: Record<string, unknown>): string[] {
  const flags: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === true) flags.push(`--${key}`);
      else if (item !== false && item !== null && item !== undefined) flags.push(`--${key}`, String(item));
    }
  }
  return flags;
}

/** Removes `--name FILE` / `--name=FILE` from argv, returning the file. */
function takeFileFlag(argv: string[], name: string): [string | undefined, string[]] {
  const at = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (at < 0) return [undefined, argv];
  const inline = argv[at].includes('=');
  const file = inline ? argv[at].slice(name.length + 3) : argv[at + 1];
  if (!file) throw new ConfigError(`--${name} needs a file`);
  return [file, [...argv.slice(0, at), ...argv.slice(at + (inline ? 1 : 2))]];
}

/**
 * `--config FILE`: a JSON object whose keys are the long flag names ({"model": ["a", "b"],
 * "port": 8080, "memory-budget": "4GiB"}); flags given on the command line win.
 */
function withConfigFile(argv: string[]): string[] {
  const [file, rest] = takeFileFlag(argv, 'config');
  if (!file) return argv;
  let values: unknown;
  try {
    values = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new ConfigError(`config file ${file} must hold a JSON object`);
  // Later occurrences win in parseArgs, so the command line goes last; -m lists add up.
  return [...flagsOf(values as Record<string, unknown>), ...rest];
}

/** `--bundle FILE` or SIE_BUNDLE: its server settings become flags the command line overrides. */
function withBundle(argv: string[], env: NodeJS.ProcessEnv): [string[], Bundle | undefined] {
  const [flagFile, rest] = takeFileFlag(argv, 'bundle');
  const file = flagFile ?? (env.SIE_BUNDLE || undefined);
  if (!file) return [argv, undefined];
  try {
    const bundle = readBundle(file);
    return [[...flagsOf(bundle.server), ...rest], bundle];
  } catch (error) {
    throw new ConfigError(error instanceof BundleError ? error.message : (error as Error).message);
  }
}

function booleanEnv(value: string | undefined, name: string, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false, got '${value}'`);
}

export function buildServeConfig(argv: string[], env: NodeJS.ProcessEnv): ServeConfig {
  let bundle: Bundle | undefined;
  [argv, bundle] = withBundle(withConfigFile(argv), env);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        model: { type: 'string', short: 'm', multiple: true },
        host: { type: 'string' },
        port: { type: 'string', short: 'p' },
        'models-dir': { type: 'string', multiple: true },
        threads: { type: 'string', short: 't' },
        'max-batch-tokens': { type: 'string' },
        'max-inputs-per-request': { type: 'string' },
        'body-limit-bytes': { type: 'string' },
        'sie-body-limit-bytes': { type: 'string' },
        'log-level': { type: 'string' },
        'memory-budget': { type: 'string' },
        pin: { type: 'string', multiple: true },
        'api-key': { type: 'string' },
        'private-metrics': { type: 'boolean' },
        'batch-wait-ms': { type: 'string' },
        'inline-max-tokens': { type: 'string' },
        'max-queued-tokens': { type: 'string' },
        'overload-status': { type: 'string' },
        'load-wait-ms': { type: 'string' },
        'cold-load-wait-ms': { type: 'string' },
        'headers-timeout-ms': { type: 'string' },
        'request-timeout-ms': { type: 'string' },
        'keep-alive-timeout-ms': { type: 'string' },
        'max-connections': { type: 'string' },
        device: { type: 'string' },
        dtype: { type: 'string' },
        'allow-image-urls': { type: 'boolean' },
        'allow-private-image-urls': { type: 'boolean' },
        'image-url-max-bytes': { type: 'string' },
        'image-url-timeout-ms': { type: 'string' },
        'image-url-max-redirects': { type: 'string' },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const v = parsed.values;
  const envModels = (env.SIE_PRELOAD_MODELS ?? env.SIE_MODELS)?.split(',').map((s) => s.trim()).filter(Boolean);
  const bundleModels = bundle?.models ?? [];
  const bundlePreloads = bundleModels.filter((m) => m.preload !== false).map((m) => m.id);
  const modelsDirs = v['models-dir'] ?? env.SIE_MODELS_DIR?.split(path.delimiter).filter(Boolean) ?? [];
  const budgetText = v['memory-budget'] ?? env.SIE_MEMORY_BUDGET;
  let memoryBudgetBytes = Infinity;
  if (budgetText) {
    try {
      memoryBudgetBytes = parseMemoryBudget(budgetText, os.totalmem());
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  }
  const overload = v['overload-status'] ?? env.SIE_OVERLOAD_STATUS ?? '503';
  if (overload !== '503' && overload !== '429') throw new ConfigError(`overload-status must be 503 or 429, got '${overload}'`);
  const device = v.device ?? env.SIE_DEVICE ?? 'cpu';
  if (!/^(auto|cpu|cuda(:\d+)?)$/.test(device)) throw new ConfigError(`device must be auto, cpu, cuda or cuda:N, got '${device}'`);
  const dtype = v.dtype ?? env.SIE_DTYPE ?? 'fp32';
  if (!['auto', 'fp32', 'fp16', 'bf16', 'bf16x3', 'bf16x3q'].includes(dtype)) throw new ConfigError(`dtype must be auto, fp32, fp16 (CUDA), bf16, bf16x3 or bf16x3q (AMX), got '${dtype}'`);
  const maxBatchTokens = integer(v['max-batch-tokens'] ?? env.SIE_MAX_BATCH_TOKENS, 'max-batch-tokens', 16384, 16);
  return {
    memoryBudgetBytes,
    device: device as ServeConfig['device'],
    dtype: dtype as ServeConfig['dtype'],
    pinned: [...(v.pin ?? []), ...bundleModels.filter((m) => m.pin).map((m) => m.id)],
    logJson: booleanEnv(env.SIE_LOG_JSON, 'SIE_LOG_JSON', true),
    bundleModels,
    apiKey: v['api-key'] ?? env.SIE_API_KEY ?? undefined,
    privateMetrics: v['private-metrics'] ?? false,
    batchWaitMs: integer(v['batch-wait-ms'] ?? env.SIE_BATCH_WAIT_MS, 'batch-wait-ms', 1, 0, 1000),
    inlineMaxTokens: integer(v['inline-max-tokens'] ?? env.SIE_INLINE_MAX_TOKENS, 'inline-max-tokens', 64, 0, 512),
    maxQueuedTokensPerModel: integer(v['max-queued-tokens'] ?? env.SIE_MAX_QUEUED_TOKENS, 'max-queued-tokens', maxBatchTokens * 16, 16),
    overloadStatus: overload === '429' ? 429 : 503,
    loadWaitMs: integer(v['load-wait-ms'] ?? env.SIE_LOAD_WAIT_MS, 'load-wait-ms', 60000, 0),
    coldLoadWaitMs: integer(v['cold-load-wait-ms'] ?? env.SIE_COLD_LOAD_WAIT_MS, 'cold-load-wait-ms', 2000, 0),
    headersTimeoutMs: integer(v['headers-timeout-ms'] ?? env.SIE_HEADERS_TIMEOUT_MS, 'headers-timeout-ms', 10000, 100),
    requestTimeoutMs: integer(v['request-timeout-ms'] ?? env.SIE_REQUEST_TIMEOUT_MS, 'request-timeout-ms', 60000, 100),
    keepAliveTimeoutMs: integer(v['keep-alive-timeout-ms'] ?? env.SIE_KEEP_ALIVE_TIMEOUT_MS, 'keep-alive-timeout-ms', 5000, 100),
    maxConnections: integer(v['max-connections'] ?? env.SIE_MAX_CONNECTIONS, 'max-connections', 4096, 1),
    models: bundle ? [...new Set([...(v.model ?? envModels ?? []), ...bundlePreloads])] : v.model ?? envModels ?? [DEFAULT_MODEL],
    host: v.host ?? env.SIE_HOST ?? '0.0.0.0',
    port: integer(v.port ?? env.SIE_PORT ?? env.PORT, 'port', 8080, 0, 65535),
    modelsDirs,
    threads: integer(v.threads ?? env.SIE_THREADS, 'threads', os.availableParallelism(), 1, 1024),
    maxBatchTokens,
    maxInputsPerRequest: integer(v['max-inputs-per-request'] ?? env.SIE_MAX_INPUTS_PER_REQUEST, 'max-inputs-per-request', 2048),
    bodyLimitBytes: integer(v['body-limit-bytes'] ?? env.SIE_BODY_LIMIT_BYTES, 'body-limit-bytes', 16 * 1024 * 1024, 1024),
    sieBodyLimitBytes: integer(v['sie-body-limit-bytes'] ?? env.SIE_SIE_BODY_LIMIT_BYTES, 'sie-body-limit-bytes', 64 * 1024 * 1024, 1024),
    logLevel: v['log-level'] ?? env.SIE_LOG_LEVEL ?? 'info',
    imageUrls: {
      allowed: v['allow-image-urls'] ?? booleanEnv(env.SIE_ALLOW_IMAGE_URLS, 'SIE_ALLOW_IMAGE_URLS', false),
      allowPrivate: v['allow-private-image-urls'] ?? booleanEnv(env.SIE_ALLOW_PRIVATE_IMAGE_URLS, 'SIE_ALLOW_PRIVATE_IMAGE_URLS', false),
      maxBytes: integer(v['image-url-max-bytes'] ?? env.SIE_IMAGE_URL_MAX_BYTES, 'image-url-max-bytes', 32 * 1024 * 1024, 1, 32 * 1024 * 1024),
      timeoutMs: integer(v['image-url-timeout-ms'] ?? env.SIE_IMAGE_URL_TIMEOUT_MS, 'image-url-timeout-ms', 10000, 100, 600000),
      maxRedirects: integer(v['image-url-max-redirects'] ?? env.SIE_IMAGE_URL_MAX_REDIRECTS, 'image-url-max-redirects', 3, 0, 20),
    },
  };
}

export const SERVE_USAGE = `usage: sie-server serve [--config FILE.json] [--bundle FILE.yaml] [-m MODEL]... [--port 8080] [--host 0.0.0.0] [--models-dir DIR]...
                        [--threads N] [--max-batch-tokens 16384] [--max-inputs-per-request 2048]
                        [--body-limit-bytes N (JSON routes, 16 MiB)] [--sie-body-limit-bytes N (SIE routes, 64 MiB)] [--log-level info] [--memory-budget 4GiB|80%]
                        [--pin MODEL]... [--api-key KEY] [--private-metrics] [--batch-wait-ms 1] [--inline-max-tokens 64]
                        [--max-queued-tokens N] [--overload-status 503|429] [--load-wait-ms 60000] [--cold-load-wait-ms 2000]
                        [--headers-timeout-ms 10000] [--request-timeout-ms 60000] [--keep-alive-timeout-ms 5000] [--max-connections 4096]
                        [--device cpu|cuda[:N]|auto] [--dtype fp32|fp16|bf16|bf16x3|bf16x3q|auto]
                        [--allow-image-urls] [--allow-private-image-urls] [--image-url-max-bytes 33554432] [--image-url-timeout-ms 10000]
                        [--image-url-max-redirects 3]

MODEL is a Hugging Face id (org/name), a name under --models-dir, or a model directory.
Default model: ${DEFAULT_MODEL} (or a bundle's models). Environment: SIE_BUNDLE, SIE_PRELOAD_MODELS or
SIE_MODELS (comma-separated), SIE_LOG_LEVEL, SIE_LOG_JSON (0 for readable lines), SIE_MODELS_DIR,
SIE_PORT, SIE_HOST, SIE_THREADS, SIE_DEVICE, SIE_DTYPE, SIE_MEMORY_BUDGET, SIE_API_KEY, HF_HOME, HF_ENDPOINT, HF_TOKEN,
HF_HUB_OFFLINE. Models listed with -m are preloaded; --pin ones are never evicted.`;

/** "4GiB", "512MiB", "1.5GB", "80%" (of total), "0.5" (fraction of total) or bytes -> bytes. */
export function parseMemoryBudget(text: string, totalBytes: number): number {
  const value = text.trim();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(value);
  if (percent) return Math.floor((Number(percent[1]) / 100) * totalBytes);
  const unit = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$/i.exec(value);
  if (!unit) throw new Error(`memory budget '${text}' is not a size like 4GiB, 512MB, 80% or 0.5`);
  const number = Number(unit[1]);
  if (!unit[2] && number > 0 && number <= 1 && value.includes('.')) return Math.floor(number * totalBytes);
  const scale: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };
  return Math.floor(number * scale[(unit[2] ?? 'b').toLowerCase()]);
}
