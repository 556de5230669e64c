import type { Pool } from 'undici';
import { numberLiterals } from '../kernel/json-literal.js';
import { roundToHundredths } from '../kernel/money.js';

/**
 * What one `GET /api/orders/{number}` told us, already validated. Everything the poller does
 * is decided from this union; nothing downstream looks at raw HTTP.
 */
export type AccrualAnswer =
  | { kind: 'processed'; accrual: number } // hundredths, absent accrual = 0
  | { kind: 'invalid' }
  | { kind: 'in_progress'; status: 'REGISTERED' | 'PROCESSING' }
  | { kind: 'unknown' } // 204: the accrual service has not heard of the order (yet)
  | { kind: 'rate_limited'; retryAfterMs: number; limitPerMinute: number | undefined }
  | { kind: 'transient'; reason: string };

/** Used when a 429 carries no usable Retry-After: long enough to be polite, short enough to recover. */
export const DEFAULT_RETRY_AFTER_MS = 60_000;
/** Bodies above this are not accrual answers; reading them whole would only cost memory. */
const MAX_BODY_BYTES = 64 * 1024;

/** `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `now`. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (text === '' || /^[+-]?\d/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** The N of `No more than N requests per minute allowed`. */
export function parseLimitPerMinute(body: string): number | undefined {
  const m = /no more than\s+(\d+)\s+requests?\s+per\s+minute/i.exec(body);
  if (!m?.[1]) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Validates a 200 body against the order we asked about. */
export function interpretProcessedBody(number: string, body: string): AccrualAnswer {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return { kind: 'transient', reason: 'malformed answer: not JSON' };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { kind: 'transient', reason: 'malformed answer: not an object' };
  const { order, status, accrual } = data as Record<string, unknown>;
  if (order !== number) return { kind: 'transient', reason: 'malformed answer: other order number' };
  let hundredths = 0;
  if (accrual !== undefined && accrual !== null) {
    if (typeof accrual !== 'number') return { kind: 'transient', reason: 'malformed answer: accrual is not a number' };
    // rounded from the text as sent: the double JSON.parse made has been rounded once already
    const rounded = roundToHundredths(accrual, numberLiterals(body).at(['accrual']));
    if (rounded === null) return { kind: 'transient', reason: 'malformed answer: negative or out-of-range accrual' };
    hundredths = rounded;
  }
  switch (status) {
    case 'PROCESSED':
      return { kind: 'processed', accrual: hundredths };
    case 'INVALID':
      return { kind: 'invalid' };
    case 'REGISTERED':
    case 'PROCESSING':
      return { kind: 'in_progress', status };
    default:
      return { kind: 'transient', reason: 'malformed answer: unknown status' };
  }
}

/** Maps one HTTP answer (status, headers, body) to an AccrualAnswer. Pure, so it is unit-tested. */
export function interpretAnswer(number: string, status: number, retryAfter: string | undefined, body: string, now = Date.now()): AccrualAnswer {
  if (status === 200) return interpretProcessedBody(number, body);
  if (status === 204) return { kind: 'unknown' };
  if (status === 429) {
    return { kind: 'rate_limited', retryAfterMs: parseRetryAfter(retryAfter, now) ?? DEFAULT_RETRY_AFTER_MS, limitPerMinute: parseLimitPerMinute(body) };
  }
  return { kind: 'transient', reason: `HTTP ${status}` };
}

export interface AccrualClientOptions {
  /** Whole-request budget: connect, headers and body. */
  timeoutMs: number;
  /** Keep-alive connections to the accrual service. */
  connections: number;
}

/** Talks to `GET {base}/api/orders/{number}` over a keep-alive pool; never throws for HTTP-level trouble. */
export class AccrualClient {
  /**
   * Made on the first question, not at start-up: undici costs ≈ 3 MB of resident memory that a
   * process with no order to follow never needs.
   */
  private pool: Promise<Pool> | undefined;
  private readonly origin: string;
  private readonly prefix: string;

  constructor(
    baseUrl: string,
    private readonly options: AccrualClientOptions,
  ) {
    const url = new URL(baseUrl);
    this.origin = url.origin;
    this.prefix = url.pathname.replace(/\/+$/, '');
  }

  private connections(): Promise<Pool> {
    this.pool ??= import('undici').then(
      ({ Pool }) =>
        new Pool(this.origin, {
          connections: this.options.connections,
          pipelining: 1,
          keepAliveTimeout: 30_000,
          connectTimeout: this.options.timeoutMs,
          headersTimeout: this.options.timeoutMs,
          bodyTimeout: this.options.timeoutMs,
        }),
    );
    return this.pool;
  }

  async ask(number: string, signal?: AbortSignal): Promise<AccrualAnswer> {
    // One timer covers the whole exchange, so a slow-drip body cannot stretch it.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('timeout')), this.options.timeoutMs);
    const onAbort = (): void => controller.abort(new Error('stopped'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const pool = await this.connections();
      const res = await pool.request({
        method: 'GET',
        path: `${this.prefix}/api/orders/${encodeURIComponent(number)}`,
        headers: { accept: 'application/json' },
        signal: controller.signal,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > MAX_BODY_BYTES) {
          res.body.destroy();
          return { kind: 'transient', reason: 'malformed answer: body too large' };
        }
        chunks.push(buf);
      }
      const retryAfter = res.headers['retry-after'];
      return interpretAnswer(number, res.statusCode, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      if (controller.signal.aborted) {
        const why = controller.signal.reason instanceof Error ? controller.signal.reason.message : 'aborted';
        return { kind: 'transient', reason: why };
      }
      const code = (err as { code?: unknown }).code;
      return { kind: 'transient', reason: `connection error${typeof code === 'string' ? `: ${code}` : ''}` };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    await (await this.pool)?.destroy();
  }
}
