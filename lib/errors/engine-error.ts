/**
 * The one error type of the engine. `code` is stable (it is what clients and the HTTP layer
 * switch on); errors thrown by the native addon carry the same codes.
 */
import { isEngineErrorCode, type EngineErrorCode } from './error-codes.js';

export type { EngineErrorCode } from './error-codes.js';

/** A model's recorded load failure: what failed, how often, and whether a retry can help. */
export interface LoadFailure {
  code: EngineErrorCode;
  message: string;
  attempts: number;
  permanent: boolean;
}

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  /** The request field the error is about, when there is one (OpenAI's `param`). */
  readonly param: string | null;
  /** Set when the request failed because its model failed to load. */
  readonly loadFailure?: LoadFailure;

  constructor(code: EngineErrorCode, message: string, options: { param?: string | null; cause?: unknown; loadFailure?: LoadFailure } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EngineError';
    this.code = code;
    this.param = options.param ?? null;
    if (options.loadFailure) this.loadFailure = options.loadFailure;
  }

  /** Wraps anything thrown by the addon or the file system into an EngineError. */
  static from(error: unknown, fallback: EngineErrorCode = 'INTERNAL'): EngineError {
    if (error instanceof EngineError) return error;
    const err = error as { code?: unknown; message?: unknown };
    const message = typeof err?.message === 'string' ? err.message : String(error);
    const code = typeof err?.code === 'string' && isEngineErrorCode(err.code) ? err.code : fallback;
    return new EngineError(code, message, { cause: error });
  }
}
