import { assertAnswerConforms } from './contract.js';

/**
 * Minimal JSON-over-HTTP client for tests, built on fetch (real sockets). Every answer is also
 * checked against the service's /openapi.json (see contract.ts): a test that receives an answer
 * its document does not describe fails.
 */
export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export async function call(
  base: string,
  method: string,
  path: string,
  options: {
    body?: string | Buffer | object;
    token?: string;
    headers?: Record<string, string>;
    /** false: skip the contract check (for answers of servers that are not ours, e.g. a fake). */
    contract?: boolean;
  } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | Buffer | undefined;
  if (options.body instanceof Buffer || typeof options.body === 'string') body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (options.contract !== false) {
    await assertAnswerConforms(base, { method, path, status: res.status, contentType: res.headers.get('content-type'), text, json });
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Registers (or logs in) a user and returns its bearer token. */
export async function signUp(base: string, login: string, password = 'secret-pass', path = '/api/user/register'): Promise<string> {
  const r = await call(base, 'POST', path, { body: { login, password } });
  if (r.status !== 200) throw new Error(`register ${login}: ${r.status} ${r.text}`);
  const auth = r.headers.get('authorization') ?? '';
  const token = auth.replace(/^Bearer /, '');
  if (!token) throw new Error('no token in Authorization header');
  return token;
}

export function uniqueLogin(prefix = 'user'): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}
