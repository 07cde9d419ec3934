/**
 * Every error code sie-server reports, in one list. The native engine's codes
 * (native/core/engine_error.h) are a subset: test/native-contract.test.ts checks it. HTTP-only
 * failures (authentication, routing, bodies) have their own codes in lib/server/http-error.ts.
 */
export const ERROR_CODES = [
  'BAD_WEIGHTS',
  'BAD_CONFIG',
  'INVALID_INPUT',
  'INVALID_ARGUMENT',
  'INPUT_TOO_LONG',
  'TOO_MANY_INPUTS',
  'MODEL_NOT_FOUND',
  'MODEL_LOAD_FAILED',
  'MODEL_DISPOSED',
  'DOWNLOAD_FAILED',
  'DEVICE_UNAVAILABLE',
  'OUT_OF_MEMORY',
  'OVERLOADED',
  'MODEL_LOADING',
  'MODEL_CAPACITY',
  'CANCELLED',
  'INTERNAL',
] as const;

export type EngineErrorCode = (typeof ERROR_CODES)[number];

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES);

export function isEngineErrorCode(code: string): code is EngineErrorCode {
  return KNOWN.has(code);
}

/** Load failures that retrying cannot fix: the files or the configuration are wrong. */
export const PERMANENT_LOAD_FAILURES: ReadonlySet<EngineErrorCode> = new Set(['BAD_WEIGHTS', 'BAD_CONFIG', 'MODEL_CAPACITY', 'INVALID_ARGUMENT', 'DEVICE_UNAVAILABLE']);
