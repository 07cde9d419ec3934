/**
 * The server's configuration: one typed object built once from CLI flags, environment
 * variables and defaults (in that order of precedence), then passed down.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

export interface ServeConfig {
  models: string[];
  host: string;
  port: number;
  modelsDirs: string[];
  threads: number;
  maxBatchTokens: number;
  maxInputsPerRequest: number;
  bodyLimitBytes: number;
  logLevel: string;
}

export class ConfigError extends Error {}

const DEFAULT_MODEL = 'sentence-transformers/all-MiniLM-L6-v2';

function integer(value: string | undefined, name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got '${value}'`);
  return n;
}

export function buildServeConfig(argv: string[], env: NodeJS.ProcessEnv): ServeConfig {
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
        'log-level': { type: 'string' },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const v = parsed.values;
  const envModels = env.SIE_MODELS?.split(',').map((s) => s.trim()).filter(Boolean);
  const modelsDirs = v['models-dir'] ?? env.SIE_MODELS_DIR?.split(path.delimiter).filter(Boolean) ?? [];
  return {
    models: v.model ?? envModels ?? [DEFAULT_MODEL],
    host: v.host ?? env.SIE_HOST ?? '0.0.0.0',
    port: integer(v.port ?? env.SIE_PORT ?? env.PORT, 'port', 8080, 0, 65535),
    modelsDirs,
    threads: integer(v.threads ?? env.SIE_THREADS, 'threads', os.availableParallelism(), 1, 1024),
    maxBatchTokens: integer(v['max-batch-tokens'] ?? env.SIE_MAX_BATCH_TOKENS, 'max-batch-tokens', 16384, 16),
    maxInputsPerRequest: integer(v['max-inputs-per-request'] ?? env.SIE_MAX_INPUTS_PER_REQUEST, 'max-inputs-per-request', 2048),
    bodyLimitBytes: integer(v['body-limit-bytes'] ?? env.SIE_BODY_LIMIT_BYTES, 'body-limit-bytes', 16 * 1024 * 1024, 1024),
    logLevel: v['log-level'] ?? env.SIE_LOG_LEVEL ?? 'info',
  };
}

export const SERVE_USAGE = `usage: sie-server serve [-m MODEL]... [--port 8080] [--host 0.0.0.0] [--models-dir DIR]...
                        [--threads N] [--max-batch-tokens 16384] [--max-inputs-per-request 2048]
                        [--body-limit-bytes N] [--log-level info]

MODEL is a Hugging Face id (org/name), a name under --models-dir, or a model directory.
Default model: ${DEFAULT_MODEL}. Environment: SIE_MODELS (comma-separated), SIE_MODELS_DIR,
SIE_PORT, SIE_HOST, SIE_THREADS, HF_HOME, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE.`;
