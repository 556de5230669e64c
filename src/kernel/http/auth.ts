import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenService } from '../auth/tokens.js';

export const TOKEN_COOKIE = 'token';

declare module 'fastify' {
  interface FastifyRequest {
    /** Authenticated subject (user id) set by the auth guard. */
    subject: string;
  }
}

/**
 * The token from `Authorization: Bearer …` (a bare JWT without the scheme is tolerated, as some
 * clients send it), or else from the HttpOnly cookie.
 */
export function requestToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const m = /^(?:Bearer\s+)?([\w-]+\.[\w-]+\.[\w-]+)\s*$/i.exec(header.trim());
    if (m?.[1]) return m[1];
  }
  const cookie = request.cookies?.[TOKEN_COOKIE];
  return cookie || undefined;
}

/** onRequest hook: 401 before the body is even read when the token is missing or invalid. */
export function authGuard(tokens: TokenService) {
  return async function guard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const token = requestToken(request);
    const claims = token === undefined ? null : tokens.verify(token);
    if (!claims) {
      await reply.code(401).send({ error: 'missing, invalid or expired token' });
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
