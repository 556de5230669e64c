import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';

export type { Logger };

/** `json`: one JSON object per line (machines, log shippers); `pretty`: readable lines for a terminal. */
export type LogFormat = 'json' | 'pretty';

/** `auto` means readable on a terminal and JSON everywhere else (pipes, files, containers). */
export function resolveLogFormat(setting: LogFormat | 'auto', stdoutIsTTY = process.stdout.isTTY === true): LogFormat {
  return setting === 'auto' ? (stdoutIsTTY ? 'pretty' : 'json') : setting;
}

/** The request fields that a readable line puts into its message instead of listing them. */
const REQUEST_FIELDS = ['reqId', 'method', 'path', 'route', 'status', 'ms'];

/** `gophermart: request GET /api/user/balance 401 (1.2 ms)`: one line per request, not seven. */
function readableMessage(log: Record<string, unknown>, messageKey: string): string {
  const head = `${String(log.service ?? '')}: ${String(log[messageKey] ?? '')}`;
  if (typeof log.method !== 'string') return head;
  const status = log.status === undefined ? '' : ` ${String(log.status)}`;
  const ms = typeof log.ms === 'number' ? ` (${log.ms} ms)` : '';
  return `${head} ${log.method} ${String(log.path ?? '')}${status}${ms}`;
}

/**
 * Readable lines for a person at a terminal (pino-pretty, loaded only then): time, level,
 * service and message, other fields below. Written synchronously: a terminal reader wants each
 * line at once, and nobody benchmarks a terminal.
 */
function prettyDestination(): DestinationStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  return pretty({
    colorize: process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: ['pid', 'hostname', 'service', ...REQUEST_FIELDS].join(','),
    messageFormat: readableMessage,
    destination: 1,
    sync: true,
  });
}

/** Buffered JSON lines on stdout. */
function jsonDestination(): DestinationStream {
  // Buffered: a line per request costs a quarter of a small request's time when each line is its
  // own write(2). Each 8 KB batch is written synchronously: an asynchronous write hands it to
  // libuv's thread pool, which on a server pinned to one core means two context switches and, on
  // a busy machine, a wait for the core — 6–9 % of the balance read's CPU samples, against
  // nothing measurable for the synchronous write. The buffer is flushed every 250 ms and on
  // shutdown (lifecycle.ts), so lines are at most that late.
  const destination = pino.destination({ dest: 1, sync: true, minLength: 8192 });
  setInterval(() => destination.flush(), 250).unref();
  return destination;
}

/**
 * pino's ISO timestamp, formatted once per millisecond instead of once per line: at tens of
 * thousands of requests a second most lines share their millisecond, and `toISOString` was 3 %
 * of a balance read's CPU samples.
 */
export function isoTimeOncePerMs(now: () => number = Date.now): () => string {
  let formattedAt = Number.NaN;
  let field = '';
  return () => {
    const t = now();
    if (t !== formattedAt) {
      formattedAt = t;
      field = `,"time":"${new Date(t).toISOString()}"`;
    }
    return field;
  };
}

/** The redaction-free sibling of each logger made here, for the request line (see requestLogger). */
const requestLoggers = new WeakMap<Logger, Logger>();

/**
 * Structured logs on stdout, JSON lines unless `pretty` is asked for. Anything that could carry
 * a credential is redacted even if a future log call passes a whole request or body by mistake.
 */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info', format: LogFormat = 'json'): Logger {
  const destination = format === 'pretty' ? prettyDestination() : jsonDestination();
  const common = { level, base: { service }, timestamp: isoTimeOncePerMs() };
  const logger = pino(
    {
      ...common,
      redact: {
        paths: [
          'password',
          '*.password',
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          '*.headers.authorization',
          '*.headers.cookie',
          'secret',
          '*.secret',
          // Node's ERR_INVALID_URL carries the whole string it could not parse: a DATABASE_URI
          // with a typo in its port, password and all, in the debug line of a failed start
          '*.input',
          '*.cause.input',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
  requestLoggers.set(logger, pino(common, destination));
  return logger;
}

/**
 * The logger for the one line per request: same level, fields and destination as `logger`, but
 * without the redaction pass, which was 60 % of that line's cost (≈ 5 µs of ≈ 8). Only for lines
 * whose every field the server fills in itself (method, path, route, status, latency, request
 * id), so no credential can reach it. A logger not made by createLogger is returned as it is.
 */
export function requestLogger(logger: Logger): Logger {
  return requestLoggers.get(logger) ?? logger;
}
