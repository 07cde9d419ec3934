/** Failures only the HTTP layer has (authentication, routing, bodies), with their own stable codes. */
export type HttpErrorCode = 'UNAUTHORIZED' | 'NOT_FOUND' | 'BODY_TOO_LARGE' | 'INVALID_BODY' | 'BAD_URL';

export class HttpError extends Error {
  constructor(readonly status: number, readonly code: HttpErrorCode, message: string, readonly param: string | null = null) {
    super(message);
    this.name = 'HttpError';
  }
}
