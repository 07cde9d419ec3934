/**
 * Downloads a model snapshot from the Hugging Face Hub (or any HF_ENDPOINT in its URL layout)
 * into the HF cache layout: `<cache>/models--org--name/snapshots/<sha>/<file>` plus
 * `refs/<revision>`. Each file is written to `<file>.incomplete` and renamed only once its
 * length (and sha256, when the hub states it) checks out; an interrupted download resumes
 * from the partial file with an HTTP Range request and is never trusted before it completes.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EngineError } from '../errors/engine-error.js';
import { hubCacheFolder } from './model-id.js';

export interface HubOptions {
  endpoint: string;
  token?: string;
  cacheDir: string;
  revision?: string;
  /** Where progress goes; stderr by default. */
  progress?: NodeJS.WritableStream | null;
}

interface HubModelInfo {
  sha?: string;
  siblings?: Array<{ rfilename?: string }>;
}

const SAFETENSORS_WEIGHTS = /^model(-\d+-of-\d+)?\.safetensors$/;
const TORCH_WEIGHTS = /^pytorch_model(-\d+-of-\d+)?\.bin$/;
/** bge-m3's extra heads, torch state dicts next to the encoder. */
const HEAD_FILES = new Set(['colbert_linear.pt', 'sparse_linear.pt']);

/**
 * Files an encoder needs out of a repository's `files`: configs, tokenizers and weights. Weights
 * are safetensors (one file or shards) where a folder has them; only a folder without any gets its
 * torch checkpoint (read by the restricted unpickler), so a repository with both never costs a
 * second download. Never ONNX, OpenVINO, or paths that climb out of the snapshot.
 */
export function isWantedFile(name: string, files: ReadonlyArray<string> = [name]): boolean {
  if (name.startsWith('onnx/') || name.startsWith('openvino/') || name.includes('..')) return false;
  const base = path.posix.basename(name);
  const folder = path.posix.dirname(name);
  const inFolder = (pattern: RegExp) => files.some((f) => path.posix.dirname(f) === folder && pattern.test(path.posix.basename(f)));
  if (SAFETENSORS_WEIGHTS.test(base)) return true;
  if (TORCH_WEIGHTS.test(base)) return !inFolder(SAFETENSORS_WEIGHTS);
  if (base === 'pytorch_model.bin.index.json') return !inFolder(SAFETENSORS_WEIGHTS);
  if (HEAD_FILES.has(base)) return folder === '.';
  return base.endsWith('.json') || base === 'vocab.txt' || base === 'sentencepiece.bpe.model';
}

export async function downloadSnapshot(modelId: string, options: HubOptions): Promise<string> {
  const revision = options.revision ?? 'main';
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const infoUrl = `${options.endpoint.replace(/\/$/, '')}/api/models/${modelId}/revision/${encodeURIComponent(revision)}`;
  const info = (await fetchJson(infoUrl, headers, modelId)) as HubModelInfo;
  const sha = typeof info.sha === 'string' && /^[0-9a-f]{40}$/.test(info.sha) ? info.sha : revision;
  const listed = (info.siblings ?? []).map((s) => s.rfilename).filter((f): f is string => typeof f === 'string');
  const files = listed.filter((f) => isWantedFile(f, listed));
  if (!files.includes('config.json')) throw new EngineError('MODEL_NOT_FOUND', `${modelId} on the hub has no config.json`);
  const repoDir = path.join(options.cacheDir, hubCacheFolder(modelId));
  const snapshotDir = path.join(repoDir, 'snapshots', sha);
  for (const file of files) {
    const target = path.join(snapshotDir, file);
    if (existsSync(target)) continue;
    const url = `${options.endpoint.replace(/\/$/, '')}/${modelId}/resolve/${encodeURIComponent(sha)}/${file}`;
    await downloadFile(url, target, headers, options.progress === undefined ? process.stderr : options.progress, file);
  }
  mkdirSync(path.join(repoDir, 'refs'), { recursive: true });
  writeFileSync(path.join(repoDir, 'refs', revision), sha);
  return snapshotDir;
}

async function fetchJson(url: string, headers: Record<string, string>, modelId: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { headers });
  } catch (error) {
    throw new EngineError('DOWNLOAD_FAILED', `cannot reach the hub for ${modelId}: ${(error as Error).message}`, { cause: error });
  }
  if (response.status === 404 || response.status === 401) {
    throw new EngineError('MODEL_NOT_FOUND', `model ${modelId} was not found on the hub (HTTP ${response.status})`);
  }
  if (!response.ok) throw new EngineError('DOWNLOAD_FAILED', `hub answered HTTP ${response.status} for ${modelId}`);
  return response.json();
}

async function downloadFile(url: string, target: string, headers: Record<string, string>, progress: NodeJS.WritableStream | null, label: string): Promise<void> {
  mkdirSync(path.dirname(target), { recursive: true });
  const partial = `${target}.incomplete`;
  const have = existsSync(partial) ? statSync(partial).size : 0;
  let response: Response;
  try {
    response = await fetch(url, { headers: have > 0 ? { ...headers, range: `bytes=${have}-` } : headers });
  } catch (error) {
    throw new EngineError('DOWNLOAD_FAILED', `download of ${label} failed: ${(error as Error).message}`, { cause: error });
  }
  if (response.status === 416 && have > 0) {
    // The partial file is already complete or stale: start over rather than trust it.
    rmSync(partial, { force: true });
    return downloadFile(url, target, headers, progress, label);
  }
  if (!response.ok || !response.body) {
    throw new EngineError(response.status === 404 ? 'MODEL_NOT_FOUND' : 'DOWNLOAD_FAILED', `download of ${label} answered HTTP ${response.status}`);
  }
  const resumed = response.status === 206 && have > 0;
  const bodyLength = Number(response.headers.get('content-length') ?? NaN);
  const expectedTotal = Number.isFinite(bodyLength) ? bodyLength + (resumed ? have : 0) : NaN;
  const expectedSha = linkedSha256(response.headers);
  const hash = createHash('sha256');
  if (resumed && expectedSha) hash.update(readFileSync(partial));
  let written = resumed ? have : 0;
  const bar = new ProgressBar(progress, label, expectedTotal);
  const counter = async function* (source: AsyncIterable<Uint8Array>) {
    for await (const chunk of source) {
      written += chunk.length;
      if (expectedSha) hash.update(chunk);
      bar.update(written);
      yield chunk;
    }
  };
  const file = createWriteStream(partial, { flags: resumed ? 'a' : 'w' });
  try {
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), counter, file);
  } catch (error) {
    // The partial file is what the next attempt resumes from: only once its descriptor is closed
    // (writes in flight landed) does its size say how much arrived.
    if (!file.closed) await new Promise<void>((resolve) => file.once('close', () => resolve()));
    bar.finish(false);
    throw new EngineError('DOWNLOAD_FAILED', `download of ${label} was cut off after ${written} bytes (kept for resuming): ${(error as Error).message}`, { cause: error });
  }
  bar.finish(true);
  if (Number.isFinite(expectedTotal) && written !== expectedTotal) {
    throw new EngineError('DOWNLOAD_FAILED', `download of ${label} ended at ${written} of ${expectedTotal} bytes (kept for resuming)`);
  }
  if (expectedSha && hash.digest('hex') !== expectedSha) {
    rmSync(partial, { force: true });
    throw new EngineError('DOWNLOAD_FAILED', `download of ${label} does not match the hub's sha256; discarded`);
  }
  renameSync(partial, target);
}

/** The hub states a LFS file's sha256 as X-Linked-Etag (or the ETag of a direct answer). */
function linkedSha256(headers: Headers): string | undefined {
  const raw = headers.get('x-linked-etag') ?? headers.get('etag') ?? '';
  const value = raw.replace(/^W\//, '').replace(/"/g, '');
  return /^[0-9a-f]{64}$/.test(value) ? value : undefined;
}

class ProgressBar {
  private lastDraw = 0;
  constructor(private readonly out: NodeJS.WritableStream | null, private readonly label: string, private readonly total: number) {}

  update(bytes: number): void {
    const now = Date.now();
    if (!this.out || now - this.lastDraw < 200) return;
    this.lastDraw = now;
    this.draw(bytes);
  }

  finish(ok: boolean): void {
    if (!this.out) return;
    this.out.write(`${ok ? 'downloaded' : 'interrupted'} ${this.label}\n`);
  }

  private draw(bytes: number): void {
    const mib = (n: number) => (n / 1048576).toFixed(1);
    if (Number.isFinite(this.total) && this.total > 0) {
      const fraction = Math.min(1, bytes / this.total);
      const filled = Math.round(fraction * 30);
      this.out!.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${mib(bytes)}/${mib(this.total)} MiB`);
    } else {
      this.out!.write(`\r${this.label} ${mib(bytes)} MiB`);
    }
  }
}
