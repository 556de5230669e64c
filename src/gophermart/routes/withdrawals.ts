import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { numberLiteral } from '../../kernel/http/body.js';
import { NoItems, sendList } from '../../kernel/http/lists.js';
import { fail, kernelOutcomes, outcomeResponses } from '../../kernel/http/outcome.js';
import { hundredthsToNumber, parsePositiveAmount } from '../../kernel/money.js';
import { formatRfc3339 } from '../../kernel/time.js';
import { WithdrawRequest, Withdrawal, gophermartOutcomes, orderNumberOutcome } from '../contract.js';
import { checkOrderNumber } from '../service.js';
import type { GophermartRouteOptions } from './options.js';

/** Spending points on an order; the withdrawals made. */
export const withdrawalRoutes: FastifyPluginAsyncTypebox<GophermartRouteOptions> = async (app, { service, signedIn }) => {
  const o = gophermartOutcomes;

  app.post(
    '/api/user/balance/withdraw',
    {
      onRequest: signedIn,
      config: { moneyFields: ['sum'] },
      schema: {
        tags: ['balance'],
        summary: 'Spend points on an order',
        description: 'Repeating an identical withdrawal (same user, order and sum) answers 200 without charging again.',
        body: WithdrawRequest,
        response: {
          200: { ...Withdrawal, description: 'withdrawn (or the identical withdrawal made before)' },
          ...outcomeResponses(
            o.withdrawal_order_missing,
            kernelOutcomes.unauthorized,
            o.insufficient_points,
            o.withdrawal_conflict,
            o.order_not_digits,
            o.order_too_long,
            o.order_fails_luhn,
            o.sum_invalid,
            kernelOutcomes.internal,
            kernelOutcomes.database_unavailable,
          ),
        },
      },
    },
    async (request) => {
      const order = request.body.order.trim();
      const problem = checkOrderNumber(order);
      if (problem === 'empty') fail(o.withdrawal_order_missing);
      if (problem) fail(orderNumberOutcome[problem]);
      const amount = parsePositiveAmount(request.body.sum, false, numberLiteral(request, 'sum'));
      // a well-formed sum above the platform's largest amount is more than any balance holds
      if (!amount.ok) fail(amount.reason === 'too_large' ? o.insufficient_points : o.sum_invalid);
      const result = await service.withdraw(request.userId, order, amount.hundredths);
      switch (result.outcome) {
        case 'done':
        case 'repeat':
          return { order, sum: hundredthsToNumber(amount.hundredths), processed_at: formatRfc3339(result.processedAt) };
        case 'insufficient':
          return fail(o.insufficient_points);
        case 'conflict':
          return fail(o.withdrawal_conflict);
        case 'unknown_user':
          return fail(kernelOutcomes.unauthorized);
      }
    },
  );

  app.get(
    '/api/user/withdrawals',
    {
      onRequest: signedIn,
      schema: {
        tags: ['balance'],
        summary: "The caller's withdrawals, oldest first",
        response: {
          200: { ...Type.Array(Withdrawal), description: 'the withdrawals, oldest first' },
          204: NoItems,
          ...outcomeResponses(kernelOutcomes.unauthorized, kernelOutcomes.internal, kernelOutcomes.database_unavailable),
        },
      },
    },
    async (request, reply) => {
      const rows = await service.listWithdrawals(request.userId);
      return sendList(
        reply,
        rows.map((w) => ({ order: w.order_number, sum: hundredthsToNumber(w.amount), processed_at: formatRfc3339(w.processed_at) })),
      );
    },
  );
};
