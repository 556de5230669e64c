import { answerClientError } from './client-errors.js';

/** How long the server waits for a client (all milliseconds, all > 0). */
export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 };

/**
 * The Fastify options that hold slow or idle clients to the limits. Node only looks at
 * unfinished requests every `connectionsCheckingInterval` (30 s by default), so a 10 s header
 * limit would really be up to 40 s; checking every second (or a tenth of the shortest limit)
 * keeps each limit within about a second of its value.
 */
export function limitOptions(limits: HttpLimits) {
  const requestTimeout = limits.requestTimeoutMs;
  // Node refuses a header limit above the whole-request limit: the request limit covers both then
  const headersTimeout = Math.min(limits.headersTimeoutMs, requestTimeout);
  const connectionsCheckingInterval = Math.max(50, Math.min(1000, Math.floor(Math.min(headersTimeout, requestTimeout) / 10)));
  return {
    requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: { requestTimeout, headersTimeout, connectionsCheckingInterval },
    clientErrorHandler: answerClientError,
  };
}
