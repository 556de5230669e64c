import type { IncomingMessage } from 'node:http';
import { answerClientError } from './client-errors.js';

/** How long the server waits for a client (all milliseconds, all > 0). */
export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /**
   * A connection on which nothing moves, either way, this long while a request is open (an answer
   * the client has stopped reading, a body that has stopped arriving) is closed. Unset: the
   * whole-request limit, but never under STALLED_CONNECTION_FLOOR_MS.
   */
  stalledConnectionMs?: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 };

/**
 * The shortest default stall limit: a request's own work (a database outage is answered within
 * 2 s, the ledger proxy waits 10 s for the orchestrator) moves nothing on its connection, so a
 * short HTTP_REQUEST_TIMEOUT must not cut a request off while its answer is being made.
 */
export const STALLED_CONNECTION_FLOOR_MS = 30_000;

/** How long a connection with a request open may see nothing move before it is closed. */
export function stalledConnectionMs(limits: HttpLimits): number {
  return limits.stalledConnectionMs ?? Math.max(limits.requestTimeoutMs, STALLED_CONNECTION_FLOOR_MS);
}

/**
 * The Fastify options that hold slow or idle clients to the limits. Node only looks at
 * unfinished requests every `connectionsCheckingInterval` (30 s by default), so a 10 s header
 * limit would really be up to 40 s; checking four times a second (or ten times per shortest
 * limit, if that is shorter) keeps each limit within a quarter of a second of its value, for the
 * cost of a walk over the unfinished requests.
 */
export function limitOptions(limits: HttpLimits) {
  const requestTimeout = limits.requestTimeoutMs;
  // Node refuses a header limit above the whole-request limit: the request limit covers both then
  const headersTimeout = Math.min(limits.headersTimeoutMs, requestTimeout);
  const connectionsCheckingInterval = Math.max(50, Math.min(250, Math.floor(Math.min(headersTimeout, requestTimeout) / 10)));
  return {
    requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node's socket inactivity timeout (server.timeout), which is off by default: an answer the
    // client reads nothing of was held, with its connection, for as long as the client kept the
    // connection open (TCP never gives up on a peer that acknowledges with a zero window). It is
    // re-armed by every read and write, O(1); the keep-alive timeout replaces it between
    // requests, as before. Node holds the timeout back once if the pending write shrank since it
    // was queued, so a stall is acted on one to two limits after it began. What a stalled
    // connection gets is answerStalledConnection's.
    connectionTimeout: stalledConnectionMs(limits),
    // a request without Host (HTTP/1.1) or with two is refused by the servers themselves (hostFault)
    http: { requestTimeout, headersTimeout, connectionsCheckingInterval, requireHostHeader: false },
    clientErrorHandler: answerClientError,
  };
}

/**
 * What is wrong with a request's Host, if anything: RFC 9112 §3.2 has a server refuse an
 * HTTP/1.1 request without one (1.0 has none to send) and any request with more than one.
 * Node's own check is off (`requireHostHeader: false` above): its refusal is a bare 400 with no
 * body, and it keeps the first of two Host lines without a word. The service and its start-up
 * stand-in refuse such requests themselves, in the `{"error"}` shape.
 */
export function hostFault(request: IncomingMessage): 'host_missing' | 'host_repeated' | undefined {
  if (request.headers.host === undefined) return request.httpVersion === '1.1' ? 'host_missing' : undefined;
  // Node keeps only the first Host in `headers`; the lines as received tell whether there were more
  const raw = request.rawHeaders;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host' && ++seen > 1) return 'host_repeated';
  }
  return undefined;
}
