import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { fail, kernelOutcomes, outcomeResponses } from '../../kernel/http/outcome.js';
import { hundredthsToNumber } from '../../kernel/money.js';
import { Balance } from '../contract.js';
import type { GophermartRouteOptions } from './options.js';

/** The points balance. */
export const balanceRoutes: FastifyPluginAsyncTypebox<GophermartRouteOptions> = async (app, { service, signedIn }) => {
  app.get(
    '/api/user/balance',
    {
      onRequest: signedIn,
      schema: {
        tags: ['balance'],
        summary: 'Current points and total withdrawn',
        response: {
          200: { ...Balance, description: 'the balance' },
          ...outcomeResponses(kernelOutcomes.unauthorized, kernelOutcomes.internal, kernelOutcomes.database_unavailable),
        },
      },
    },
    async (request) => {
      const balance = await service.balance(request.userId);
      if (!balance) fail(kernelOutcomes.unauthorized);
      return { current: hundredthsToNumber(balance.current), withdrawn: hundredthsToNumber(balance.withdrawn) };
    },
  );
};
