import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stdout. Anything that could carry a credential is redacted even if a
 * future log call passes a whole request or body by mistake.
 */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization', '*.headers.authorization', '*.headers.cookie', 'secret', '*.secret'],
      censor: '[redacted]',
    },
  });
}
