import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { HttpLimits } from '../../src/kernel/http/limits.js';
import { createHttpServer, type HttpApp } from '../../src/kernel/http/server.js';

/**
 * The kernel's HTTP server with no service on it, for tests of the HTTP edge: it logs at info
 * into `lines` (each line parsed) and is always ready. Routes are the test's to add.
 */
export function edgeServer(limits: HttpLimits, lines: Array<Record<string, unknown>>): Promise<HttpApp> {
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return createHttpServer({ logger, title: 't', description: 'd', metrics: new Registry(), readiness: async () => {}, limits });
}
