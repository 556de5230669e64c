import { type Static, Type } from '@sinclair/typebox';
import { LOGIN_MAX, PASSWORD_MAX, PASSWORD_MIN } from '../auth/credentials.js';
import { outcomes } from './outcome.js';

/**
 * The register/login contract every service with users shares: request and answer shapes, the
 * token headers of a successful answer, and the refusals. Type-only importers (the web app) get
 * the shapes without any server code.
 */

export const Credentials = Type.Object(
  {
    login: Type.Optional(Type.String({ description: `1–${LOGIN_MAX} characters` })),
    username: Type.Optional(Type.String({ description: 'alias of login' })),
    password: Type.String({ description: `${PASSWORD_MIN}–${PASSWORD_MAX} characters at registration; at login any non-empty password` }),
  },
  { description: 'Credentials; `username` is accepted as an alias of `login`' },
);
export type Credentials = Static<typeof Credentials>;

/** Who is signed in: the answer of register, login and the loyalty service's /api/user/me. */
export const Session = Type.Object({ login: Type.String() });
export type Session = Static<typeof Session>;

/** The headers that carry a fresh token on a successful register or login. */
export const TokenHeaders = {
  Authorization: Type.String({ description: '`Bearer <token>`: the user token to send back as `Authorization: Bearer <token>`' }),
  'Set-Cookie': Type.String({
    description:
      'the same token as the HttpOnly cookie `token` (Path=/, SameSite=Lax, Max-Age = the token lifetime; Secure when the request came over TLS through a proxy TRUST_PROXY names)',
  }),
};

/** A successful register or login as its document shows it: the session and the token headers. */
export function signedIn(description: string) {
  return Type.Object(Session.properties, { description, headers: TokenHeaders });
}

export const authOutcomes = outcomes({
  /** The message names the rule broken (login is required, password must be at most … characters). */
  malformed: { status: 400, message: 'bad format: not JSON, a missing or empty field, or an over-long field' },
  login_taken: { status: 409, message: 'login is already taken' },
  wrong_pair: { status: 401, message: 'wrong login or password' },
  too_many_failed_logins: { status: 429, message: 'too many failed logins' },
});

/** The 429 of a login: the password was not checked; `Retry-After` says when it will be again. */
export const Throttled = Type.Object(
  { error: Type.Literal(authOutcomes.too_many_failed_logins.message) },
  {
    description: 'too many failed logins for this login from this address, or from this address over all logins; the password was not checked',
    headers: { 'Retry-After': Type.Integer({ minimum: 1, description: 'seconds until an attempt will be checked again' }) },
  },
);
