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

/** An `Authorization` header of another scheme (`Basic …`, `Digest …`): meant for a proxy in front, not for us. */
const OTHER_SCHEME = /^(?!bearer\s)[a-z][\w!#$%&'*+.^`|~-]*\s+\S/i;

/**
 * The token a request authenticates with: the `Authorization` header's when the request has
 * one (`Bearer …`; a bare JWT without the scheme is tolerated, as some clients send it), else
 * the HttpOnly cookie's. Such a header decides alone: a malformed, tampered or expired one is a
 * 401 even beside a good cookie (SPEC), so a client that keeps cookies still sees its bad header
 * refused. A header of another scheme carries no token of ours (a browser behind a proxy's
 * basic authentication sends one with every request), so the cookie decides then.
 * `undefined`: no usable token.
 */
export function requestToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization?.trim();
  if (header !== undefined && !OTHER_SCHEME.test(header)) return /^(?:Bearer\s+)?([\w-]+\.[\w-]+\.[\w-]+)$/i.exec(header)?.[1];
  return request.cookies?.[TOKEN_COOKIE] || undefined;
}

/** A token's subject as a user id: a positive integer, or undefined for anything else. */
function userIdOf(subject: string): number | undefined {
  const id = Number(subject);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** The signed-in user's id by the request's token (see requestToken), or undefined. */
export function requestUserId(request: FastifyRequest, tokens: TokenService): number | undefined {
  const token = requestToken(request);
  const claims = token === undefined ? null : tokens.verify(token);
  return claims ? userIdOf(claims.sub) : undefined;
}

/**
 * onRequest hook: 401 before the body is even read unless the request's token (the header's,
 * or without a header the cookie's) is valid; the route then reads `request.userId`.
 * Documented as the user-token security of the route.
 */
export function authGuard(tokens: TokenService) {
  return securedBy(SECURITY.user, async function guard(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const id = requestUserId(request, tokens);
    if (id === undefined) fail(kernelOutcomes.unauthorized);
    request[USER_ID] = id;
  });
}

/**
 * The attributes of a session cookie, set or cleared, at `path`: HttpOnly, SameSite=Lax, and
 * Secure when the client reached us over TLS (`X-Forwarded-Proto: https` from a proxy
 * `TRUST_PROXY` names, since the services themselves speak plain HTTP), so a browser never sends
 * it over a plain-HTTP request to the same host (a link, an injected redirect), where anyone on
 * the path would read it. A clearing must name the same attributes as the setting.
 */
export function sessionCookie(request: FastifyRequest, path: string): { httpOnly: true; sameSite: 'lax'; path: string; secure: boolean } {
  return { httpOnly: true, sameSite: 'lax', path, secure: request.protocol === 'https' };
}

/** Hands a fresh token to the client both ways: header and HttpOnly cookie. */
export function issueToken(reply: FastifyReply, tokens: TokenService, subject: string): string {
  const token = tokens.sign(subject);
  reply.header('authorization', `Bearer ${token}`);
  reply.setCookie(TOKEN_COOKIE, token, { ...sessionCookie(reply.request, '/'), maxAge: tokens.ttlSeconds });
  return token;
}
