/**
 * The SDK's errors, with the class names, fields and hierarchy of SIE's TypeScript SDK, so code
 * written against it catches the same classes: SIEError > SIEConnectionError | RequestError (4xx)
 * | ServerError (5xx) > ModelLoadFailedError (502 MODEL_LOAD_FAILED), and ModelLoadingError when a
 * model is still loading past the wait budget.
 */
export class SIEError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SIEError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export type SIEConnectionErrorKind = 'connect' | 'timeout' | 'other';

export class SIEConnectionError extends SIEError {
  constructor(message: string, readonly kind: SIEConnectionErrorKind = 'other') {
    super(message);
    this.name = 'SIEConnectionError';
  }
}

export class RequestError extends SIEError {
  constructor(message: string, readonly code?: string, readonly statusCode?: number) {
    super(message);
    this.name = 'RequestError';
  }
}

export class ServerError extends SIEError {
  constructor(message: string, readonly code?: string, readonly statusCode?: number) {
    super(message);
    this.name = 'ServerError';
  }
}

export class ModelLoadingError extends SIEError {
  constructor(message: string, readonly model?: string) {
    super(message);
    this.name = 'ModelLoadingError';
  }
}

export class ModelLoadFailedError extends ServerError {
  readonly model?: string;
  readonly errorClass?: string;
  readonly permanent: boolean;
  readonly attempts: number;

  constructor(message: string, options: { model?: string; errorClass?: string; permanent?: boolean; attempts?: number } = {}) {
    super(message, 'MODEL_LOAD_FAILED', 502);
    this.name = 'ModelLoadFailedError';
    this.model = options.model;
    this.errorClass = options.errorClass;
    this.permanent = options.permanent ?? true;
    this.attempts = options.attempts ?? 1;
  }
}
