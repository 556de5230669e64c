import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { TOKEN_COOKIE, requestUserId, sessionCookie } from '../../kernel/http/auth.js';
import { registerAuthRoutes } from '../../kernel/http/auth-routes.js';
import { fail, kernelOutcomes, outcomeResponses } from '../../kernel/http/outcome.js';
import { LoggedOut, Session, SessionState } from '../contract.js';
import type { GophermartRouteOptions } from './options.js';

/** Register, login, who am I, am I signed in, logout. */
export const sessionRoutes: FastifyPluginAsyncTypebox<GophermartRouteOptions> = async (app, { service, tokens, throttle, signedIn }) => {
  registerAuthRoutes(app, { register: '/api/user/register', login: '/api/user/login' }, service.accounts, tokens, throttle);

  app.get(
    '/api/user/me',
    {
      onRequest: signedIn,
      schema: {
        tags: ['auth'],
        summary: 'Who the token belongs to',
        description: 'Lets a browser app holding only the HttpOnly cookie find out, after a reload, whether it is still signed in.',
        response: {
          200: { ...Session, description: 'the signed-in login' },
          ...outcomeResponses(kernelOutcomes.unauthorized, kernelOutcomes.internal, kernelOutcomes.database_unavailable),
        },
      },
    },
    async (request) => {
      const login = await service.loginOf(request.userId);
      if (login === undefined) fail(kernelOutcomes.unauthorized);
      return { login };
    },
  );

  // The web app asks this on every page load: answering a signed-out visitor 200 (not 401) keeps
  // an expected state out of the browser console's error list. Protected routes still say 401.
  app.get(
    '/api/user/session',
    {
      schema: {
        tags: ['auth'],
        summary: 'Whether the caller is signed in, and as whom',
        description: 'Never 401: `{"signed_in": false}` without a valid token (header or cookie), `{"signed_in": true, "login": "…"}` with one.',
        response: {
          200: { ...SessionState, description: 'signed in or not' },
          ...outcomeResponses(kernelOutcomes.internal, kernelOutcomes.database_unavailable),
        },
      },
    },
    async (request) => {
      const id = requestUserId(request, tokens);
      const login = id === undefined ? undefined : await service.loginOf(id);
      return login === undefined ? { signed_in: false } : { signed_in: true, login };
    },
  );

  app.post(
    '/api/user/logout',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign out: clear the token cookie',
        description: 'Always 200, with or without a valid token. Tokens are stateless JWTs: a copy of the token kept elsewhere stays valid until it expires.',
        response: {
          200: {
            ...LoggedOut,
            description: 'signed out: the cookie is cleared',
            headers: { 'Set-Cookie': Type.String({ description: 'clears the cookie `token`: empty value, Path=/, an Expires in the past' }) },
          },
          ...outcomeResponses(kernelOutcomes.internal),
        },
      },
    },
    async (request, reply) => {
      reply.clearCookie(TOKEN_COOKIE, sessionCookie(request, '/'));
      return { status: 'signed out' as const };
    },
  );
};
