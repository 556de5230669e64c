import { sleep } from '../lifecycle.js';

/**
 * The database could not be reached (refused, reset, timed out, shutting down). Thrown by the
 * kernel's Database instead of the driver's error so that every caller sees one kind of
 * outage: the HTTP layer answers it `503 {"error": "database unavailable"}`, background loops
 * pause and retry without logging it on every tick.
 */
export class DatabaseUnavailable extends Error {
  readonly code = 'DATABASE_UNAVAILABLE';

  constructor(cause?: unknown) {
    super('database unavailable', cause === undefined ? undefined : { cause });
    this.name = 'DatabaseUnavailable';
  }
}

export function isDatabaseUnavailable(err: unknown): err is DatabaseUnavailable {
  return err instanceof DatabaseUnavailable;
}

/** Driver and socket error codes that mean "no usable connection", not "the statement failed". */
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that is going away or not yet accepting work: class 08 (connection
 * exception), admin/crash shutdown, cannot connect now (starting up or shutting down), and too
 * many connections.
 */
function isUnavailableState(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

/** True when `err` says the database is unreachable rather than that one statement failed. */
export function isConnectionFault(err: unknown): boolean {
  if (isDatabaseUnavailable(err)) return true;
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || (/^[0-9A-Z]{5}$/.test(code) && isUnavailableState(code)))) return true;
  // several addresses tried at once (localhost → ::1 and 127.0.0.1): every one failed
  const errors = (err as { errors?: unknown }).errors;
  return Array.isArray(errors) && errors.length > 0 && errors.every(isConnectionFault);
}

/**
 * Runs `write` until it goes through, trying again `delayMs(attempt)` after each failure that
 * is an outage: for a write that carries something the process must not drop at the first
 * outage (an accrual answer, a commit decision). Any other error is thrown at once; once
 * `signal` aborts, the outage's error is (after the try in progress or one last try).
 */
export async function retryWhileUnavailable<T>(write: () => Promise<T>, delayMs: (attempt: number) => number, signal: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!isDatabaseUnavailable(err) || signal.aborted) throw err;
    }
    await sleep(delayMs(attempt), signal);
  }
}
