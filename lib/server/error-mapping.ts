/**
 * Any failure of a request -> one neutral description (status, code, message, param), which
 * each API family's error handler renders in its own shape (error-handlers.ts).
 */
import { EngineError, type EngineErrorCode, type LoadFailure } from '../errors/engine-error.js';
import { HttpError } from './http-error.js';

const STATUS: Record<EngineErrorCode, number> = {
  INVALID_INPUT: 400,
  INVALID_ARGUMENT: 400,
  INPUT_TOO_LONG: 400,
  TOO_MANY_INPUTS: 413,
  MODEL_NOT_FOUND: 404,
  MODEL_LOAD_FAILED: 502,
  BAD_WEIGHTS: 502,
  BAD_CONFIG: 502,
  DOWNLOAD_FAILED: 502,
  DEVICE_UNAVAILABLE: 502,
  MODEL_DISPOSED: 503,
  OUT_OF_MEMORY: 503,
  OVERLOADED: 503,
  MODEL_LOADING: 503,
  MODEL_CAPACITY: 503,
  // The client is gone; nobody reads this status, but logs and metrics do.
  CANCELLED: 499,
  INTERNAL: 500,
};

export function httpStatusOf(error: EngineError): number {
  return STATUS[error.code] ?? 500;
}

export interface ErrorDescription {
  status: number;
  code: string;
  message: string;
  param: string | null;
  /** When the request failed because its model failed to load. */
  loadFailure?: LoadFailure;
}

interface FastifyErrorLike {
  statusCode?: number;
  code?: string;
  message: string;
  validation?: Array<{ keyword?: string; instancePath?: string; message?: string; params?: Record<string, unknown> }>;
}

/** Schema failures name the field; a list over its maxItems is TOO_MANY_INPUTS (413). */
function describeValidation(error: FastifyErrorLike, schemaStatus: number): ErrorDescription {
  const first = error.validation![0];
  const missing = first?.params?.missingProperty;
  const path = (first?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const field = typeof missing === 'string' ? (path ? `${path}.${missing}` : missing) : path;
  if (first?.keyword === 'maxItems') {
    return { status: 413, code: 'TOO_MANY_INPUTS', message: `${field} has more entries than the limit per request (${String(first.params?.limit)})`, param: field || null };
  }
  const message = typeof missing === 'string' ? `${field} is required` : `${field || 'body'} ${first?.message ?? 'is invalid'}`;
  return { status: schemaStatus, code: 'INVALID_INPUT', message, param: field || null };
}

/** `schemaStatus`: what a schema failure answers (400, or 422 on SIE's FastAPI-style routes). */
export function describeError(error: unknown, options: { schemaStatus: number; overloadStatus: 503 | 429 }): ErrorDescription {
  if (error instanceof EngineError) {
    const status = error.code === 'OVERLOADED' && options.overloadStatus === 429 ? 429 : httpStatusOf(error);
    return { status, code: error.code, message: error.message, param: error.param, ...(error.loadFailure ? { loadFailure: error.loadFailure } : {}) };
  }
  if (error instanceof HttpError) return { status: error.status, code: error.code, message: error.message, param: error.param };
  const e = error as FastifyErrorLike;
  if (e.validation) return describeValidation(e, options.schemaStatus);
  const status = e.statusCode && e.statusCode >= 400 ? e.statusCode : 500;
  if (status >= 500) return { status, code: 'INTERNAL', message: 'internal server error', param: null };
  return { status, code: status === 413 ? 'BODY_TOO_LARGE' : 'INVALID_INPUT', message: e.message, param: null };
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

export function openAIErrorBody(d: ErrorDescription): OpenAIErrorBody {
  const type = d.status === 404 ? 'not_found_error' : d.status < 500 ? 'invalid_request_error' : 'server_error';
  return { error: { message: d.message, type, param: d.param, code: d.code } };
}

/** SIE's load-error classes (GATED, NOT_FOUND, OOM, NETWORK, DEPENDENCY, UNKNOWN) for our codes; the code itself goes along as cause_code. */
const SIE_LOAD_ERROR_CLASS: Partial<Record<EngineErrorCode, string>> = {
  MODEL_NOT_FOUND: 'NOT_FOUND',
  MODEL_CAPACITY: 'OOM',
  OUT_OF_MEMORY: 'OOM',
  DOWNLOAD_FAILED: 'NETWORK',
  DEVICE_UNAVAILABLE: 'DEPENDENCY',
};

/**
 * SIE's error as SIE's server sends it: a load failure is 502 MODEL_LOAD_FAILED carrying
 * error_class, permanent and attempts (so SIE's SDKs fail fast instead of retrying); everything
 * else keeps its status and code. The body is `{"detail": {...}}`, with the same object as
 * OpenAI's `error` (SIE's SDKs read `error` first) and the code and message at the top level.
 */
export function sieError(d: ErrorDescription): { status: number; body: unknown } {
  const failure = d.loadFailure;
  const status = failure ? 502 : d.status;
  const code = failure ? 'MODEL_LOAD_FAILED' : d.code;
  const fields = failure ? { error_class: SIE_LOAD_ERROR_CLASS[failure.code] ?? 'UNKNOWN', cause_code: failure.code, permanent: failure.permanent, attempts: failure.attempts } : {};
  const type = status === 404 ? 'not_found_error' : status < 500 ? 'invalid_request_error' : 'server_error';
  return {
    status,
    body: {
      detail: { code, message: d.message, ...fields },
      code,
      message: d.message,
      error: { message: d.message, type, param: d.param, code, ...fields },
    },
  };
}
