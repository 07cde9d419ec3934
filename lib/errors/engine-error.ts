/**
 * The one error type of the engine. `code` is stable (it is what clients and the HTTP layer
 * switch on); errors thrown by the native addon carry the same codes.
 */
import { isEngineErrorCode, type EngineErrorCode } from './error-codes.js';

export type { EngineErrorCode } from './error-codes.js';

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  /** The request field the error is about, when there is one (OpenAI's `param`). */
  readonly param: string | null;

  constructor(code: EngineErrorCode, message: string, options: { param?: string | null; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EngineError';
    this.code = code;
    this.param = options.param ?? null;
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
