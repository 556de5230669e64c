import type { PasswordAccounts } from '../auth/accounts.js';
import { checkCredentials } from '../auth/credentials.js';
import type { TokenService } from '../auth/tokens.js';
import { Credentials, authOutcomes, signedIn } from './auth-contract.js';
import { issueToken } from './auth.js';
import { errorResponse, fail, kernelOutcomes, outcomeResponses } from './outcome.js';
import type { HttpApp } from './server.js';

export { Session } from './auth-contract.js';

/**
 * Register and login, identical in every service that has users: 200 with the token in the
 * `Authorization` header and the HttpOnly cookie, 400 bad format, 409 login taken, 401 wrong pair.
 */
export function registerAuthRoutes(app: HttpApp, paths: { register: string; login: string }, accounts: PasswordAccounts, tokens: TokenService): void {
  const read = (body: { login?: string; username?: string; password: string }) => {
    const checked = checkCredentials(body);
    if (!checked.ok) fail(authOutcomes.malformed, checked.message);
    return checked;
  };
  const malformed = errorResponse(authOutcomes.malformed.message);

  app.post(
    paths.register,
    {
      schema: {
        tags: ['auth'],
        summary: 'Register a user and sign in',
        description: 'The token comes back in the `Authorization: Bearer` header and as the HttpOnly cookie `token`.',
        body: Credentials,
        response: {
          200: signedIn('registered and signed in'),
          400: malformed,
          ...outcomeResponses(authOutcomes.login_taken, kernelOutcomes.internal, kernelOutcomes.database_unavailable),
        },
      },
    },
    async (request, reply) => {
      const { login, password } = read(request.body);
      const id = await accounts.register(login, password);
      if (id === null) fail(authOutcomes.login_taken);
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
        description: 'The token comes back in the `Authorization: Bearer` header and as the HttpOnly cookie `token`.',
        body: Credentials,
        response: {
          200: signedIn('signed in'),
          400: malformed,
          ...outcomeResponses(authOutcomes.wrong_pair, kernelOutcomes.internal, kernelOutcomes.database_unavailable),
        },
      },
    },
    async (request, reply) => {
      const { login, password } = read(request.body);
      const id = await accounts.authenticate(login, password);
      if (id === null) fail(authOutcomes.wrong_pair);
      issueToken(reply, tokens, String(id));
      return { login };
    },
  );
}
