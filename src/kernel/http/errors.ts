/** An error whose status and message are safe to show the client as `{"error": message}`. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Older shorthand for a 400; new code declares outcomes and calls `fail()` (outcome.ts). */
export const badRequest = (message: string): HttpError => new HttpError(400, message);

/** The one answer to a request without a usable token. */
export const UNAUTHORIZED = 'missing, invalid or expired token';

/** Older shorthand (see `kernelOutcomes.unauthorized`): 401 for a token that verified but whose user is gone (e.g. a reset database with a fixed secret). */
export const unauthorized = (): HttpError => new HttpError(401, UNAUTHORIZED);
