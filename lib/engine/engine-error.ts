/**
 * The one error type of sie-server. `code` is stable (it is what clients and the HTTP layer
 * switch on); errors thrown by the native addon carry the same codes.
 */
export type EngineErrorCode =
  | 'BAD_WEIGHTS'
  | 'BAD_CONFIG'
  | 'INVALID_INPUT'
  | 'INVALID_ARGUMENT'
  | 'INPUT_TOO_LONG'
  | 'TOO_MANY_INPUTS'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_LOAD_FAILED'
  | 'MODEL_DISPOSED'
  | 'DOWNLOAD_FAILED'
  | 'OUT_OF_MEMORY'
  | 'OVERLOADED'
  | 'MODEL_LOADING'
  | 'MODEL_CAPACITY'
  | 'UNAUTHORIZED'
  | 'INTERNAL';

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

const CODES: ReadonlySet<string> = new Set<EngineErrorCode>([
  'BAD_WEIGHTS', 'BAD_CONFIG', 'INVALID_INPUT', 'INVALID_ARGUMENT', 'INPUT_TOO_LONG', 'TOO_MANY_INPUTS',
  'MODEL_NOT_FOUND', 'MODEL_LOAD_FAILED', 'MODEL_DISPOSED', 'DOWNLOAD_FAILED', 'OUT_OF_MEMORY', 'OVERLOADED', 'MODEL_LOADING',
  'MODEL_CAPACITY', 'UNAUTHORIZED', 'INTERNAL',
]);

function isEngineErrorCode(code: string): code is EngineErrorCode {
  return CODES.has(code);
}
