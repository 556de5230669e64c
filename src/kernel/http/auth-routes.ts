import { Type } from '@sinclair/typebox';
import type { PasswordAccounts } from '../auth/accounts.js';
import { LOGIN_MAX, PASSWORD_MAX, checkCredentials } from '../auth/credentials.js';
import type { TokenService } from '../auth/tokens.js';
import { issueToken } from './auth.js';
import { badRequest } from './errors.js';
import { ErrorBody, type HttpApp } from './server.js';

const Credentials = Type.Object(
  {
    login: Type.Optional(Type.String({ description: `1–${LOGIN_MAX} characters` })),
    username: Type.Optional(Type.String({ description: 'alias of login' })),
    password: Type.String({ description: `1–${PASSWORD_MAX} characters` }),
  },
  { description: 'Credentials; `username` is accepted as an alias of `login`' },
);
/** Who is signed in: the answer of register, login and the loyalty service's /api/user/me. */
export const Session = Type.Object({ login: Type.String() });

/**
 * Register and login, identical in every service that has users: 200 with the token in the
 * `Authorization` header and the HttpOnly cookie, 400 bad format, 409 login taken, 401 wrong pair.
 */
export function registerAuthRoutes(app: HttpApp, paths: { register: string; login: string }, accounts: PasswordAccounts, tokens: TokenService): void {
  const Err = Type.Ref(ErrorBody);
  const read = (body: { login?: string; username?: string; password: string }) => {
    const checked = checkCredentials(body);
    if (!checked.ok) throw badRequest(checked.message);
    return checked;
  };

  app.post(
    paths.register,
    {
      schema: {
        tags: ['auth'],
        summary: 'Register a user and sign in',
        description: 'The token comes back in the `Authorization: Bearer` header and as the HttpOnly cookie `token`.',
        body: Credentials,
        response: { 200: Session, 400: Err, 409: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const { login, password } = read(request.body);
      const id = await accounts.register(login, password);
      if (id === null) return reply.code(409).send({ error: 'login is already taken' });
      issueToken(reply, tokens, String(id));
      return { login };
    },
  );

  app.post(
    paths.login,
    { schema: { tags: ['auth'], summary: 'Sign in', body: Credentials, response: { 200: Session, 400: Err, 401: Err, 500: Err } } },
    async (request, reply) => {
      const { login, password } = read(request.body);
      const id = await accounts.authenticate(login, password);
      if (id === null) return reply.code(401).send({ error: 'wrong login or password' });
      issueToken(reply, tokens, String(id));
      return { login };
    },
  );
}
