import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenService } from '../auth/tokens.js';
import { fail, kernelOutcomes } from './outcome.js';
import { SECURITY, securedBy } from './security.js';

export const TOKEN_COOKIE = 'token';

const USER_ID = Symbol('userId');

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The signed-in user's id, set by the auth guard. Reading it on a route without the guard
     * is a programming error (500), never a silent anonymous user.
     */
    readonly userId: number;
    [USER_ID]?: number;
  }
}

/** Gives every request the `userId` accessor; the server factory calls this once per app. */
export function decorateUserId(app: { decorateRequest(name: string | symbol, value: unknown): unknown }): void {
  app.decorateRequest(USER_ID, undefined);
  app.decorateRequest('userId', {
    getter(this: FastifyRequest): number {
      const id = this[USER_ID];
      if (id === undefined) throw new Error('request.userId read on a route without the auth guard');
      return id;
    },
  });
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

/** A token's subject as a user id: a positive integer, or undefined for anything else. */
function userIdOf(subject: string): number | undefined {
  const id = Number(subject);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/**
 * onRequest hook: 401 before the body is even read unless the header or the cookie carries a
 * valid token (either is accepted, so a stale header does not hide a good cookie); the route
 * then reads `request.userId`. Documented as the user-token security of the route.
 */
export function authGuard(tokens: TokenService) {
  return securedBy(SECURITY.user, async function guard(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    for (const token of requestTokens(request)) {
      const claims = tokens.verify(token);
      const id = claims ? userIdOf(claims.sub) : undefined;
      if (id !== undefined) {
        request[USER_ID] = id;
        return;
      }
    }
    fail(kernelOutcomes.unauthorized);
  });
}

/** Hands a fresh token to the client both ways: header and HttpOnly cookie. */
export function issueToken(reply: FastifyReply, tokens: TokenService, subject: string): string {
  const token = tokens.sign(subject);
  reply.header('authorization', `Bearer ${token}`);
  reply.setCookie(TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: tokens.ttlSeconds });
  return token;
}
