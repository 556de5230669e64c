import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stdout. Anything that could carry a credential is redacted even if a
 * future log call passes a whole request or body by mistake.
 */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  // Buffered, asynchronous writes: a line per request costs a quarter of a small request's time
  // when each line is its own write(2). The buffer is flushed every 250 ms and on shutdown
  // (lifecycle.ts), so lines are at most that late.
  const destination = pino.destination({ dest: 1, sync: false, minLength: 8192 });
  setInterval(() => destination.flush(), 250).unref();
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
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
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
