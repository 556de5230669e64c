import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { numberLiteralAt } from '../../kernel/http/body.js';
import { errorResponse, fail, kernelOutcomes, outcomeResponses } from '../../kernel/http/outcome.js';
import { sendNoContent } from '../../kernel/http/lists.js';
import { hundredthsToNumber } from '../../kernel/money.js';
import { Accepted, NotRegistered, OrderReply, OrderRequest, TooManyRequests, accrualOutcomes, orderOutcome } from '../contract.js';
import { checkOrder } from '../service.js';
import type { AccrualRouteOptions } from './options.js';

/** Registering orders for calculation and reading their status. */
export const orderRoutes: FastifyPluginAsyncTypebox<AccrualRouteOptions> = async (app, { service, read }) => {
  const random = read.random ?? Math.random;

  app.post(
    '/api/orders',
    {
      config: { numberText: true },
      schema: {
        tags: ['orders'],
        summary: 'Register an order for calculation',
        description: 'The order is readable as REGISTERED once this answers 202. An empty goods list has no matching good: it ends PROCESSED without accrual.',
        body: OrderRequest,
        response: {
          202: { ...Accepted, description: 'accepted for calculation' },
          400: errorResponse(
            `bad format: not JSON, ${Object.values(orderOutcome)
              .map((o) => `\`${o.message}\``)
              .join(' · ')}`,
          ),
          ...outcomeResponses(accrualOutcomes.order_exists, kernelOutcomes.internal, kernelOutcomes.database_unavailable),
        },
      },
    },
    async (request, reply) => {
      const checked = checkOrder(request.body.order, request.body.goods, (i) => numberLiteralAt(request, ['goods', i, 'price']));
      if (!checked.ok) fail(orderOutcome[checked.problem]);
      const outcome = await service.registerOrder(checked.value.number, checked.value.goods);
      if (outcome === 'exists') fail(accrualOutcomes.order_exists);
      return reply.code(202).send({ order: checked.value.number, status: 'REGISTERED' as const });
    },
  );

  // Checked before anything else, so refused requests cost no database work. The answer is the
  // text/plain line clients of the calculation system expect, not an `{"error"}` outcome.
  async function rateLimit(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const decision = read.limiter.take();
    if (decision.allowed) return;
    await reply.code(429).header('content-type', 'text/plain').header('retry-after', String(decision.retryAfterSeconds)).send(read.limiter.message());
  }

  app.get(
    '/api/orders/:number',
    {
      onRequest: rateLimit,
      schema: {
        tags: ['orders'],
        summary: 'Calculation status of an order',
        description: 'A number that is not decimal digits is simply not registered: 204.',
        params: Type.Object({ number: Type.String({ description: 'the order number' }) }),
        response: {
          200: { ...OrderReply, description: 'the order’s status, and its accrual once calculated' },
          204: NotRegistered,
          429: TooManyRequests,
          ...outcomeResponses(kernelOutcomes.internal, kernelOutcomes.database_unavailable, accrualOutcomes.simulated_fault),
        },
      },
    },
    async (request, reply) => {
      if (read.errorShare > 0 && random() < read.errorShare) fail(accrualOutcomes.simulated_fault);
      const number = request.params.number;
      const order = await service.order(number);
      // like every 204 of the platform, with the JSON content type clients check (SPEC §1)
      if (!order) return sendNoContent(reply);
      return {
        order: number,
        status: order.status,
        ...(order.accrual !== null && order.accrual > 0 ? { accrual: hundredthsToNumber(order.accrual) } : {}),
      };
    },
  );
};
