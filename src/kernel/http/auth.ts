import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenService } from '../auth/tokens.js';
import { UNAUTHORIZED } from './errors.js';

export const TOKEN_COOKIE = 'token';

declare module 'fastify' {
  interface FastifyRequest {
    /** Authenticated subject (user id) set by the auth guard. */
    subject: string;
  }
}

/**
 * The candidate tokens of a request, in order: `Authorization: Bearer …` (a bare JWT without the
 * scheme is tolerated, as some clients send it), then the HttpOnly cookie.
 */
export function requestTokens(request: FastifyRequest): string[] {
  const found: string[] = [];
  const header = request.headers.authorization;
  if (header !== undefined) {
    const m = /^(?:Bearer\s+)?([\w-]+\.[\w-]+\.[\w-]+)\s*$/i.exec(header.trim());
    if (m?.[1]) found.push(m[1]);
  }
  const cookie = request.cookies?.[TOKEN_COOKIE];
  if (cookie) found.push(cookie);
  return found;
}

/**
 * onRequest hook: 401 before the body is even read unless the header or the cookie carries a
 * valid token (SPEC: either is accepted, so a stale header does not hide a good cookie).
 */
export function authGuard(tokens: TokenService) {
  return async function guard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    let claims = null;
    for (const token of requestTokens(request)) {
      claims = tokens.verify(token);
      if (claims) break;
    }
    if (!claims) {
      await reply.code(401).send({ error: UNAUTHORIZED });
      return;
    }
    request.subject = claims.sub;
  };
}

/** Hands a fresh token to the client both ways the SPEC asks: header and HttpOnly cookie. */
export function issueToken(reply: FastifyReply, tokens: TokenService, subject: string): string {
  const token = tokens.sign(subject);
  reply.header('authorization', `Bearer ${token}`);
  reply.setCookie(TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: tokens.ttlSeconds });
  return token;
}
