/**
 * Resolves a model id to a directory, in this order: a directory path (trusted callers only:
 * the CLI and in-process users, never an HTTP request), a folder under a models directory
 * (`<dir>/<org>/<name>` or `<dir>/<name>`), the Hugging Face cache, and finally a download from
 * the hub into that cache.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineError } from '../errors/engine-error.js';
import { downloadSnapshot } from './hub-download.js';
import { hubCacheFolder, isSafeModelId } from './model-id.js';

export interface ResolverOptions {
  modelsDirs: string[];
  /** The hub cache (`$HF_HOME/hub`, or `~/.cache/huggingface/hub`). */
  hubCacheDir: string;
  hubEndpoint: string;
  hubToken?: string;
  /** HF_HUB_OFFLINE: never download. */
  offline: boolean;
  progress?: NodeJS.WritableStream | null;
}

export interface ResolveRequest {
  /** Paths are honoured only for trusted callers. */
  allowPaths: boolean;
  allowDownload: boolean;
}

export function resolverOptionsFromEnv(env: NodeJS.ProcessEnv, modelsDirs: string[]): ResolverOptions {
  const hfHome = env.HF_HOME ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'huggingface');
  const truthy = (v: string | undefined) => v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());
  return {
    modelsDirs,
    hubCacheDir: env.HF_HUB_CACHE ?? path.join(hfHome, 'hub'),
    hubEndpoint: env.HF_ENDPOINT ?? 'https://huggingface.co',
    hubToken: env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN,
    offline: truthy(env.HF_HUB_OFFLINE),
  };
}

const isModelDir = (dir: string) => existsSync(path.join(dir, 'config.json'));

function cachedSnapshot(cacheDir: string, id: string): string | undefined {
  const repo = path.join(cacheDir, hubCacheFolder(id));
  const ref = path.join(repo, 'refs', 'main');
  if (existsSync(ref)) {
    const dir = path.join(repo, 'snapshots', readFileSync(ref, 'utf8').trim());
    if (isModelDir(dir)) return dir;
  }
  const snapshots = path.join(repo, 'snapshots');
  if (!existsSync(snapshots)) return undefined;
  const candidates = readdirSync(snapshots)
    .map((name) => path.join(snapshots, name))
    .filter(isModelDir)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return candidates[0];
}

/** Finds the model locally; undefined when only the hub could have it. */
export function findLocalModel(id: string, options: ResolverOptions, request: ResolveRequest): string | undefined {
  if (request.allowPaths && isModelDir(id)) {
    return path.resolve(id);
  }
  if (!isSafeModelId(id)) return undefined;
  for (const root of options.modelsDirs) {
    for (const candidate of [path.join(root, id), path.join(root, path.basename(id))]) {
      if (isModelDir(candidate)) return candidate;
    }
  }
  return cachedSnapshot(options.hubCacheDir, id);
}

export async function resolveModel(id: string, options: ResolverOptions, request: ResolveRequest): Promise<string> {
  const local = findLocalModel(id, options, request);
  if (local) return local;
  if (!isSafeModelId(id)) throw new EngineError('MODEL_NOT_FOUND', `model '${id}' is not a valid model id or model directory`, { param: 'model' });
  if (!request.allowDownload || options.offline) {
    throw new EngineError('MODEL_NOT_FOUND', `model '${id}' was not found in the models directories or the Hugging Face cache${options.offline ? ' (HF_HUB_OFFLINE is set)' : ''}`, { param: 'model' });
  }
  return downloadSnapshot(id, {
    endpoint: options.hubEndpoint,
    token: options.hubToken,
    cacheDir: options.hubCacheDir,
    progress: options.progress,
  });
}

/**
 * Every model that could be served without a download, as `id -> directory`: `<dir>/<name>` and
 * `<dir>/<org>/<name>` under each models directory, then `models--org--name` in the HF cache.
 * The first place an id is found wins, as in findLocalModel.
 */
export function listLocalModels(options: ResolverOptions): Map<string, string> {
  const found = new Map<string, string>();
  const add = (id: string, dir: string | undefined) => {
    if (dir && isSafeModelId(id) && !found.has(id)) found.set(id, dir);
  };
  const subdirectories = (dir: string) => {
    try {
      return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return [];
    }
  };
  for (const root of options.modelsDirs) {
    for (const name of subdirectories(root)) {
      const dir = path.join(root, name);
      if (isModelDir(dir)) add(name, dir);
      else for (const inner of subdirectories(dir)) if (isModelDir(path.join(dir, inner))) add(`${name}/${inner}`, path.join(dir, inner));
    }
  }
  for (const folder of subdirectories(options.hubCacheDir)) {
    if (!folder.startsWith('models--')) continue;
    const id = folder.slice('models--'.length).split('--').join('/');
    if (isSafeModelId(id)) add(id, cachedSnapshot(options.hubCacheDir, id));
  }
  return found;
}
