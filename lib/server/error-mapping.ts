/** Engine error codes -> HTTP status, and the OpenAI error body every route family can share. */
import { EngineError, type EngineErrorCode } from '../engine/engine-error.js';

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
  MODEL_DISPOSED: 503,
  OUT_OF_MEMORY: 503,
  OVERLOADED: 503,
  MODEL_LOADING: 503,
  MODEL_CAPACITY: 503,
  UNAUTHORIZED: 401,
  INTERNAL: 500,
};

export function httpStatusOf(error: EngineError): number {
  return STATUS[error.code] ?? 500;
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

export function openAIErrorBody(status: number, code: string, message: string, param: string | null = null): OpenAIErrorBody {
  const type = status === 404 ? 'not_found_error' : status < 500 ? 'invalid_request_error' : 'server_error';
  return { error: { message, type, param, code } };
}
