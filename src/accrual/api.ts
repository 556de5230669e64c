import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { badRequest } from '../kernel/http/errors.js';
import { ErrorBody, type HttpApp } from '../kernel/http/server.js';
import { hundredthsToNumber } from '../kernel/money.js';
import { ORDER_NUMBER_MAX_DIGITS } from '../kernel/luhn.js';
import { MATCH_MAX } from './migrations.js';
import type { FixedWindowLimiter } from './rate-limit.js';
import { decimalToNumber } from '../kernel/decimal.js';
import { checkOrder, checkRule, type AccrualService, type OrderProblem, type RuleProblem } from './service.js';

const Err = Type.Ref(ErrorBody);

// an enum rather than a union of literals: one clear validation message for a wrong type
const RewardType = Type.Unsafe<'%' | 'pt'>({
  type: 'string',
  enum: ['%', 'pt'],
  description: '`%`: percent of the price; `pt`: fixed points per matching good',
});
const GoodsRule = Type.Object({
  match: Type.String({ description: `case-sensitive substring of a good's description; 1–${MATCH_MAX} characters` }),
  reward: Type.Number({ description: 'non-negative; any number of decimals' }),
  reward_type: RewardType,
});
const Good = Type.Object({
  description: Type.String(),
  price: Type.Number({ description: 'non-negative; any number of decimals' }),
});
const OrderRequest = Type.Object({
  order: Type.String({ description: `digits passing the Luhn check, at most ${ORDER_NUMBER_MAX_DIGITS}` }),
  goods: Type.Array(Good),
});
const Status = Type.Union([Type.Literal('REGISTERED'), Type.Literal('PROCESSING'), Type.Literal('INVALID'), Type.Literal('PROCESSED')]);
const OrderReply = Type.Object({
  order: Type.String(),
  status: Status,
  accrual: Type.Optional(Type.Number({ description: 'present only when non-zero' })),
});
const Accepted = Type.Object({ order: Type.String(), status: Type.Literal('REGISTERED') });
const NoContent = Type.Null({ description: 'the order is not registered' });
// documented as text/plain (what is sent), not as the JSON every other answer is
const TooMany = {
  description: 'Over the rate limit: `No more than N requests per minute allowed`; `Retry-After` holds the seconds until the window resets',
  content: { 'text/plain': { schema: Type.String() } },
};

const ruleMessages: Record<RuleProblem, string> = {
  empty_match: 'match must not be empty',
  match_too_long: `match must be at most ${MATCH_MAX} characters`,
  match_unstorable: 'match contains characters that cannot be stored (NUL or a lone surrogate)',
  reward_not_a_number: 'reward must be a number',
  reward_negative: 'reward must not be negative',
  reward_too_large: 'reward is too large',
};

const orderMessages: Record<OrderProblem, string> = {
  number_not_digits: 'order must be a string of decimal digits',
  number_too_long: `order must be at most ${ORDER_NUMBER_MAX_DIGITS} digits`,
  number_fails_luhn: 'order number fails the Luhn check',
  description_unstorable: 'good description contains characters that cannot be stored (NUL or a lone surrogate)',
  price_not_a_number: 'price must be a number',
  price_negative: 'price must not be negative',
  price_too_large: 'price is too large',
};

export interface OrdersReadOptions {
  limiter: FixedWindowLimiter;
  /** Share of order reads answered 500 (fault knob for testing clients). */
  errorShare: number;
  random?: () => number;
}

export function registerAccrualRoutes(app: HttpApp, service: AccrualService, read: OrdersReadOptions): void {
  const random = read.random ?? Math.random;

  app.post(
    '/api/goods',
    {
      schema: {
        tags: ['rules'],
        summary: 'Register a reward rule',
        description: 'A good earns from at most one rule: the longest `match` contained in its description, ties going to the earliest registered.',
        body: GoodsRule,
        response: { 200: GoodsRule, 400: Err, 409: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const { match, reward, reward_type } = request.body;
      const checked = checkRule(match, reward, reward_type);
      if (!checked.ok) throw badRequest(ruleMessages[checked.problem]);
      const outcome = await service.registerRule(checked.value);
      if (outcome === 'exists') return reply.code(409).send({ error: 'a rule with this match is already registered' });
      return { match, reward: decimalToNumber(checked.value.reward), reward_type };
    },
  );

  app.post(
    '/api/orders',
    {
      schema: {
        tags: ['orders'],
        summary: 'Register an order for calculation',
        description: 'The order is readable as REGISTERED once this answers 202. An empty goods list ends INVALID.',
        body: OrderRequest,
        response: { 202: Accepted, 400: Err, 409: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const checked = checkOrder(request.body.order, request.body.goods);
      if (!checked.ok) throw badRequest(orderMessages[checked.problem]);
      const outcome = await service.registerOrder(checked.value.number, checked.value.goods);
      if (outcome === 'exists') return reply.code(409).send({ error: 'order is already registered' });
      return reply.code(202).send({ order: checked.value.number, status: 'REGISTERED' as const });
    },
  );

  // The limit is checked before anything else, so refused requests cost no database work.
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
        params: Type.Object({ number: Type.String() }),
        response: { 200: OrderReply, 204: NoContent, 429: TooMany, 500: Err },
      },
    },
    async (request, reply) => {
      if (read.errorShare > 0 && random() < read.errorShare) {
        return reply.code(500).send({ error: 'internal server error (simulated: ERROR_SHARE)' });
      }
      const number = request.params.number;
      const order = await service.order(number);
      if (!order) return reply.code(204).send(null);
      return {
        order: number,
        status: order.status,
        ...(order.accrual !== null && order.accrual > 0 ? { accrual: hundredthsToNumber(order.accrual) } : {}),
      };
    },
  );
}
