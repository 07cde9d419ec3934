/**
 * Fetching an image named by an http(s) URL, for Infinity's image routes, which accept URLs beside
 * data URIs. Off unless the server runs with `--allow-image-urls`: a server that fetches what its
 * clients name is a server-side request forgery risk, so every fetch is bounded:
 *  - private, loopback, link-local and reserved addresses are refused at connection time, after
 *    DNS resolution (request-filtering-agent), so a public name that resolves to 10.x or
 *    127.0.0.1 (or rebinds to it) is refused too; `--allow-private-image-urls` lifts this for
 *    trusted networks (an internal object store);
 *  - only http and https, on every hop; at most `maxRedirects` redirects, followed by hand so that
 *    each hop goes through the same checks;
 *  - at most `maxBytes` (refused from Content-Length when it says so, else cut while reading);
 *  - one deadline for the whole fetch, redirects included.
 * Every failure is INVALID_INPUT naming the field and the reason; nothing is retried.
 */
import http from 'node:http';
import https from 'node:https';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import { EngineError } from '../errors/engine-error.js';

export interface ImageUrlPolicy {
  allowPrivate: boolean;
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
}

export const DEFAULT_IMAGE_URL_POLICY: ImageUrlPolicy = { allowPrivate: false, maxBytes: 32 * 1024 * 1024, timeoutMs: 10_000, maxRedirects: 3 };

/** Agents per policy (keep-alive off: each fetch is its own connection, checked on its own). */
function agentsFor(policy: ImageUrlPolicy) {
  const options = { allowPrivateIPAddress: policy.allowPrivate, keepAlive: false };
  return { http: new RequestFilteringHttpAgent(options), https: new RequestFilteringHttpsAgent(options) };
}

export class ImageUrlFetcher {
  private readonly agents: ReturnType<typeof agentsFor>;

  constructor(readonly policy: ImageUrlPolicy = DEFAULT_IMAGE_URL_POLICY) {
    this.agents = agentsFor(policy);
  }

  /** The body of `url` (following redirects), or INVALID_INPUT naming `param`. */
  async fetch(url: string, param: string, signal?: AbortSignal): Promise<Uint8Array> {
    const deadline = AbortSignal.timeout(this.policy.timeoutMs);
    const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const fail = (reason: string) => new EngineError('INVALID_INPUT', `${param}: could not fetch ${redact(url)}: ${reason}`, { param });
    let current = url;
    for (let hop = 0; ; hop++) {
      let target: URL;
      try {
        target = new URL(current);
      } catch {
        throw fail('not a valid URL');
      }
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw fail(`${target.protocol} URLs are not fetched`);
      const response = await this.get(target, abort, fail);
      if (response.status >= 300 && response.status < 400 && response.location) {
        if (hop >= this.policy.maxRedirects) throw fail(`more than ${this.policy.maxRedirects} redirects`);
        current = new URL(response.location, target).toString();
        continue;
      }
      if (response.status !== 200) throw fail(`HTTP ${response.status}`);
      if (!response.body || response.body.length === 0) throw fail('the body is empty');
      return response.body;
    }
  }

  private get(target: URL, abort: AbortSignal, fail: (reason: string) => EngineError): Promise<{ status: number; location?: string; body?: Uint8Array }> {
    const { maxBytes } = this.policy;
    const client = target.protocol === 'https:' ? https : http;
    const agent = target.protocol === 'https:' ? this.agents.https : this.agents.http;
    return new Promise((resolve, reject) => {
      if (abort.aborted) return reject(fail(reasonOf(abort)));
      const request = client.get(target, { agent, signal: abort, headers: { accept: 'image/*' } }, (response) => {
        const status = response.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          response.resume();
          return resolve({ status, location: response.headers.location });
        }
        if (status !== 200) {
          response.resume();
          return resolve({ status });
        }
        const declared = Number(response.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBytes) {
          response.destroy();
          return reject(fail(`it is ${declared} bytes, more than the ${maxBytes} allowed`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            response.destroy();
            reject(fail(`it is more than the ${maxBytes} bytes allowed`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
        response.on('error', (error) => reject(fail(abort.aborted ? reasonOf(abort) : error.message)));
      });
      request.on('error', (error) => reject(fail(abort.aborted ? reasonOf(abort) : describe(error))));
    });
  }
}

function reasonOf(abort: AbortSignal): string {
  return abort.reason instanceof DOMException && abort.reason.name === 'TimeoutError' ? 'it took too long' : 'the request was cancelled';
}

function describe(error: Error): string {
  // request-filtering-agent's refusal names the address and why; connection errors name their code.
  return /is not allowed/.test(error.message) ? `${error.message.replace(/\.$/, '')} (the server refuses private and reserved addresses)` : error.message;
}

/** The URL without credentials or query, for messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return 'the URL';
  }
}
