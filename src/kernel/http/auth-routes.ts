import type { PasswordAccounts } from '../auth/accounts.js';
import { PASSWORD_MAX, PASSWORD_MIN, checkCredentials } from '../auth/credentials.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import type { TokenService } from '../auth/tokens.js';
import { Credentials, Throttled, authOutcomes, signedIn } from './auth-contract.js';
import { issueToken } from './auth.js';
import { errorResponse, fail, kernelOutcomes, outcomeResponses } from './outcome.js';
import type { HttpApp } from './server.js';
import { normaliseClientAddress } from './trust-proxy.js';

export { Session } from './auth-contract.js';

/**
 * Register and login take bodies up to 1 MiB (after decompression), not the 64 KiB of other
 * routes: an over-long password is a 400 at registration and a wrong pair at login, whatever its
 * length, so a client that sends a long one gets that answer and not a 413. A hash of a 1 MiB
 * password costs no more than of a short one (argon2 reduces it to 64 bytes first).
 */
const CREDENTIALS_BODY_LIMIT = 1024 * 1024;

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
  const read = (body: { login?: string; username?: string; password: string }, purpose: 'register' | 'login') => {
    const checked = checkCredentials(body, purpose);
    if (!checked.ok) fail(authOutcomes.malformed, checked.message);
    return checked;
  };
  const malformed = errorResponse(authOutcomes.malformed.message);

  app.post(
    paths.register,
    {
      bodyLimit: CREDENTIALS_BODY_LIMIT,
      schema: {
        tags: ['auth'],
        summary: 'Register a user and sign in',
        description: `The token comes back in the \`Authorization: Bearer\` header and as the HttpOnly cookie \`token\`. The password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`,
        body: Credentials,
        response: {
          200: signedIn('registered and signed in'),
          400: malformed,
          ...outcomeResponses(authOutcomes.login_taken, kernelOutcomes.internal, kernelOutcomes.database_unavailable),
        },
      },
    },
    async (request, reply) => {
      const { login, password } = read(request.body, 'register');
      const id = await accounts.register(login, password);
      if (id === null) fail(authOutcomes.login_taken);
      issueToken(reply, tokens, String(id));
      return { login };
    },
  );

  app.post(
    paths.login,
    {
      bodyLimit: CREDENTIALS_BODY_LIMIT,
      schema: {
        tags: ['auth'],
        summary: 'Sign in',
        description:
          'The token comes back in the `Authorization: Bearer` header and as the HttpOnly cookie `token`. A wrong pair (also an unknown login) is 401 and counts as a failed login. Past the limits (by default 10 failed logins in 15 minutes for one login from one address, 100 from one address over all logins) attempts are 429, without checking the password, until enough failures have left the window.',
        body: Credentials,
        response: {
          200: signedIn('signed in'),
          400: malformed,
          ...outcomeResponses(authOutcomes.wrong_pair, kernelOutcomes.internal, kernelOutcomes.database_unavailable),
          429: Throttled,
        },
      },
    },
    async (request, reply) => {
      const { login, password } = read(request.body, 'login');
      const admission = await throttle.admit(login, normaliseClientAddress(request.ip));
      if (!admission.admitted) {
        return reply
          .code(authOutcomes.too_many_failed_logins.status)
          .header('retry-after', String(admission.retryAfterSeconds))
          .send({ error: authOutcomes.too_many_failed_logins.message });
      }
      let id: number | null;
      try {
        id = await accounts.authenticate(login, password);
      } catch (err) {
        await throttle.abandoned(admission.attempt).catch(() => undefined);
        throw err;
      }
      if (id === null) {
        // a wrong pair keeps its slot: that slot is the failed login
        throttle.failed(admission.attempt);
        fail(authOutcomes.wrong_pair);
      }
      // the pair matched: a failure to clear its counter must not turn the sign-in into an error
      await throttle.succeeded(admission.attempt).catch((err: unknown) => request.log.warn({ err, reqId: request.id }, 'login counters not cleared'));
      issueToken(reply, tokens, String(id));
      return { login };
    },
  );
}
