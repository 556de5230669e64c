import { Type } from '@sinclair/typebox';
import type { PasswordAccounts } from '../auth/accounts.js';
import { LOGIN_MAX, PASSWORD_MAX, PASSWORD_MIN, checkCredentials } from '../auth/credentials.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import type { TokenService } from '../auth/tokens.js';
import { issueToken } from './auth.js';
import { badRequest } from './errors.js';
import { ErrorBody, type HttpApp } from './server.js';
import { normaliseClientAddress } from './trust-proxy.js';

const Credentials = Type.Object(
  {
    login: Type.Optional(Type.String({ description: `1–${LOGIN_MAX} characters` })),
    username: Type.Optional(Type.String({ description: 'alias of login' })),
    password: Type.String({ description: `${PASSWORD_MIN}–${PASSWORD_MAX} characters at registration; at login any non-empty password` }),
  },
  { description: 'Credentials; `username` is accepted as an alias of `login`' },
);
/** Who is signed in: the answer of register, login and the loyalty service's /api/user/me. */
export const Session = Type.Object({ login: Type.String() });

export const TOO_MANY_FAILED_LOGINS = 'too many failed logins';

const Throttled = Type.Object(
  { error: Type.Literal(TOO_MANY_FAILED_LOGINS) },
  {
    description: 'too many failed logins for this login from this address, or from this address; the password was not checked',
    headers: { 'Retry-After': { type: 'integer', minimum: 1, description: 'seconds until an attempt will be checked again' } },
  },
);

/**
 * Register and login, identical in every service that has users: 200 with the token in the
 * `Authorization` header and the HttpOnly cookie, 400 bad format, 409 login taken, 401 wrong
 * pair, 429 while failed logins from the client's address are throttled.
 */
export function registerAuthRoutes(
  app: HttpApp,
  paths: { register: string; login: string },
  accounts: PasswordAccounts,
  tokens: TokenService,
  throttle: LoginThrottle,
): void {
  const Err = Type.Ref(ErrorBody);
  const read = (body: { login?: string; username?: string; password: string }, purpose: 'register' | 'login') => {
    const checked = checkCredentials(body, purpose);
    if (!checked.ok) throw badRequest(checked.message);
    return checked;
  };

  app.post(
    paths.register,
    {
      schema: {
        tags: ['auth'],
        summary: 'Register a user and sign in',
        description: `The token comes back in the \`Authorization: Bearer\` header and as the HttpOnly cookie \`token\`. The password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`,
        body: Credentials,
        response: { 200: Session, 400: Err, 409: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const { login, password } = read(request.body, 'register');
      const id = await accounts.register(login, password);
      if (id === null) return reply.code(409).send({ error: 'login is already taken' });
      issueToken(reply, tokens, String(id));
      return { login };
    },
  );

  app.post(
    paths.login,
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in',
        description:
          'A wrong pair (also an unknown login) is 401 and counts as a failed login. Past the limits (by default 10 failed logins in 15 minutes for one login from one address, 100 from one address over all logins) attempts are 429, without checking the password, until enough failures have left the window.',
        body: Credentials,
        response: { 200: Session, 400: Err, 401: Err, 429: Throttled, 500: Err },
      },
    },
    async (request, reply) => {
      const { login, password } = read(request.body, 'login');
      const admission = await throttle.admit(login, normaliseClientAddress(request.ip));
      if (!admission.admitted) return reply.code(429).header('retry-after', String(admission.retryAfterSeconds)).send({ error: TOO_MANY_FAILED_LOGINS });
      let id: number | null;
      try {
        id = await accounts.authenticate(login, password);
      } catch (err) {
        await throttle.abandoned(admission.attempt).catch(() => undefined);
        throw err;
      }
      // a wrong pair keeps its slot: that slot is the failed login
      if (id === null) return reply.code(401).send({ error: 'wrong login or password' });
      await throttle.succeeded(admission.attempt);
      issueToken(reply, tokens, String(id));
      return { login };
    },
  );
}
