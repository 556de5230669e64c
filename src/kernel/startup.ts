import { ConfigError } from './config.js';
import { DatabaseUnavailable } from './db/unavailable.js';

/** A start-up failure whose message is already what the operator should read (no stack needed). */
export class StartupError extends Error {}

interface SystemError {
  code?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  message?: unknown;
}

const single = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

/**
 * One line saying why a program could not start: the common causes (address in use, data
 * directory locked, database missing or unreachable, bad settings) in words, anything else by
 * its message. Never a stack trace, never a connection string (it may carry a password).
 */
export function describeStartupFailure(err: unknown): string {
  if (err instanceof ConfigError || err instanceof StartupError) return single(err.message);
  // the driver's error says more (which host, which code) than the outage it became
  if (err instanceof DatabaseUnavailable && err.cause !== undefined) return describeStartupFailure(err.cause);
  const e = (typeof err === 'object' && err !== null ? err : {}) as SystemError;
  const where = typeof e.address === 'string' && e.port !== undefined ? `${e.address}:${String(e.port)}` : undefined;
  if (e.syscall === 'listen' || e.code === 'EADDRINUSE') {
    if (e.code === 'EADDRINUSE') return `address ${where ?? ''} is already in use (another instance running? choose another port)`.replace('  ', ' ');
    if (e.code === 'EACCES') return `no permission to listen on ${where ?? 'that address'} (ports below 1024 need privileges)`;
    if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${where ?? 'that address'}: no such local address`;
  }
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'ETIMEDOUT' || e.code === 'EHOSTUNREACH' || e.code === 'CONNECT_TIMEOUT')
    return `cannot reach PostgreSQL${where ? ` at ${where}` : ''} (${String(e.code)}): is it running, is DATABASE_URI right?`;
  if (e.code === '3D000') return `${single(String(e.message))}: create it first (createdb <name>) or point DATABASE_URI at an existing database`;
  if (e.code === '28P01' || e.code === '28000') return `PostgreSQL refused the login: ${single(String(e.message))}`;
  if (err instanceof Error) return single(err.message);
  return single(String(err));
}
