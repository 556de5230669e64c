import { type Static, Type } from '@sinclair/typebox';
import { type Outcome, outcomes } from '../kernel/http/outcome.js';
import { ORDER_NUMBER_MAX_DIGITS } from '../kernel/luhn.js';
import { MATCH_MAX } from './migrations.js';
import type { OrderProblem, RuleProblem } from './service.js';

/**
 * The accrual service's HTTP contract: request and answer shapes (TypeBox schemas with their
 * static types) and every refusal with its status and message, for the routes, the document
 * and the tests.
 */

// an enum rather than a union of literals: one clear validation message for a wrong type
export const RewardType = Type.Unsafe<'%' | 'pt'>({
  type: 'string',
  enum: ['%', 'pt'],
  description: '`%`: percent of the price; `pt`: fixed points per matching good',
});

export const GoodsRule = Type.Object({
  match: Type.String({ description: `case-sensitive substring of a good's description; 1–${MATCH_MAX} characters` }),
  reward: Type.Number({ description: 'non-negative; any number of decimals' }),
  reward_type: RewardType,
});
export type GoodsRule = Static<typeof GoodsRule>;

export const Good = Type.Object({
  description: Type.String(),
  price: Type.Number({ description: 'non-negative; any number of decimals' }),
});
export type Good = Static<typeof Good>;

export const OrderRequest = Type.Object({
  order: Type.String({ description: `digits passing the Luhn check, at most ${ORDER_NUMBER_MAX_DIGITS}` }),
  goods: Type.Array(Good),
});
export type OrderRequest = Static<typeof OrderRequest>;

export const AccrualStatus = Type.Union([Type.Literal('REGISTERED'), Type.Literal('PROCESSING'), Type.Literal('INVALID'), Type.Literal('PROCESSED')], {
  description: 'REGISTERED → PROCESSING → PROCESSED or INVALID (the last two are final)',
});
export type AccrualStatus = Static<typeof AccrualStatus>;

export const OrderReply = Type.Object({
  order: Type.String(),
  status: AccrualStatus,
  accrual: Type.Optional(Type.Number({ description: 'present only when non-zero' })),
});
export type OrderReply = Static<typeof OrderReply>;

export const Accepted = Type.Object({ order: Type.String(), status: Type.Literal('REGISTERED') });
export type Accepted = Static<typeof Accepted>;

export const NotRegistered = Type.Null({ description: 'the order is not registered (no body)' });

/** Documented as text/plain (what is sent), not as the JSON every other answer is. */
export const TooManyRequests = {
  description: "Over the rate limit: `No more than N requests per minute allowed`; `Retry-After` is always 60 (the window's length)",
  headers: { 'Retry-After': Type.Integer({ minimum: 60, maximum: 60, description: "seconds to wait: always 60, the window's length" }) },
  content: { 'text/plain': { schema: Type.String({ description: 'e.g. `No more than 1000 requests per minute allowed`' }) } },
};

export const accrualOutcomes = outcomes({
  rule_exists: { status: 409, message: 'a rule with this match is already registered' },
  order_exists: { status: 409, message: 'order is already registered' },
  simulated_fault: { status: 500, message: 'internal server error (simulated: ERROR_SHARE)' },
});

export const ruleOutcome: Record<RuleProblem, Outcome> = {
  empty_match: { status: 400, message: 'match must not be empty' },
  match_too_long: { status: 400, message: `match must be at most ${MATCH_MAX} characters` },
  match_unstorable: { status: 400, message: 'match contains characters that cannot be stored (NUL or a lone surrogate)' },
  reward_not_a_number: { status: 400, message: 'reward must be a number' },
  reward_negative: { status: 400, message: 'reward must not be negative' },
  reward_too_large: { status: 400, message: 'reward is too large' },
};

export const orderOutcome: Record<OrderProblem, Outcome> = {
  number_not_digits: { status: 400, message: 'order must be a string of decimal digits' },
  number_too_long: { status: 400, message: `order must be at most ${ORDER_NUMBER_MAX_DIGITS} digits` },
  number_fails_luhn: { status: 400, message: 'order number fails the Luhn check' },
  description_unstorable: { status: 400, message: 'good description contains characters that cannot be stored (NUL or a lone surrogate)' },
  price_not_a_number: { status: 400, message: 'price must be a number' },
  price_negative: { status: 400, message: 'price must not be negative' },
  price_too_large: { status: 400, message: 'price is too large' },
};
