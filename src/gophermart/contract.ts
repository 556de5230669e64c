import { type Static, Type } from '@sinclair/typebox';
import { type Outcome, outcomes } from '../kernel/http/outcome.js';
import { ORDER_NUMBER_MAX_DIGITS } from '../kernel/luhn.js';

/**
 * The loyalty service's HTTP contract: every request and answer shape (TypeBox schemas with
 * their static types) and every refusal with its status and message. The routes validate and
 * document with these, the web app imports the types (`import type`, no runtime), the tests
 * check answers against them.
 */

export { Credentials, Session } from '../kernel/http/auth-contract.js';

export const OrderStatus = Type.Union([Type.Literal('NEW'), Type.Literal('PROCESSING'), Type.Literal('INVALID'), Type.Literal('PROCESSED')], {
  description: 'NEW: not yet known to the accrual service · PROCESSING: being calculated · INVALID: refused (final) · PROCESSED: credited (final)',
});
export type OrderStatus = Static<typeof OrderStatus>;

export const Order = Type.Object({
  number: Type.String(),
  status: OrderStatus,
  accrual: Type.Optional(Type.Number({ description: 'points credited; present only when PROCESSED and non-zero' })),
  uploaded_at: Type.String({ format: 'date-time' }),
});
export type Order = Static<typeof Order>;

export const UploadedOrder = Type.Object({ number: Type.String(), status: OrderStatus });
export type UploadedOrder = Static<typeof UploadedOrder>;

/** The upload's body: the number as text/plain, or one of these JSON forms. */
export const OrderNumberText = Type.String({
  description: `the order number: decimal digits passing the Luhn check, at most ${ORDER_NUMBER_MAX_DIGITS}; surrounding white space is ignored`,
  examples: ['12345678903'],
});
export const OrderNumberJson = Type.Union(
  [
    Type.Object({ order_number: Type.String() }, { title: 'order_number' }),
    Type.Object({ number: Type.String() }, { title: 'number' }),
    Type.String({ title: 'bare JSON string' }),
    Type.Integer({ title: 'bare digits', description: 'the digits alone, read as written (never parsed into a number)' }),
  ],
  {
    description:
      'the same number as JSON: `{"order_number": "…"}`, `{"number": "…"}`, a bare JSON string, or the digits alone; a JSON number inside an object is 422 (parsed, it would be a float)',
  },
);

export const Balance = Type.Object({
  current: Type.Number({ description: 'points available: credited accruals minus withdrawals' }),
  withdrawn: Type.Number({ description: 'points spent over all withdrawals' }),
});
export type Balance = Static<typeof Balance>;

export const WithdrawRequest = Type.Object({
  order: Type.String({ description: 'a new order number (Luhn-checked) the points are spent on' }),
  sum: Type.Number({ description: 'points to spend: positive, at most 2 decimals' }),
});
export type WithdrawRequest = Static<typeof WithdrawRequest>;

export const Withdrawal = Type.Object({ order: Type.String(), sum: Type.Number(), processed_at: Type.String({ format: 'date-time' }) });
export type Withdrawal = Static<typeof Withdrawal>;

export const LoggedOut = Type.Object({ status: Type.Literal('signed out') });
export type LoggedOut = Static<typeof LoggedOut>;

/** `GET /api/user/session`: always 200, so a signed-out page load is not an error. */
export const SessionState = Type.Object(
  {
    signed_in: Type.Boolean({ description: 'whether the request carries a valid token (header or cookie)' }),
    login: Type.Optional(Type.String({ description: 'the signed-in login; present only when signed_in' })),
  },
  { description: 'whether the caller is signed in, and as whom' },
);
export type SessionState = Static<typeof SessionState>;

/** Why an order number is refused, in the order it is checked. */
export type OrderNumberProblem = 'empty' | 'not_digits' | 'too_long' | 'fails_luhn';

export const gophermartOutcomes = outcomes({
  upload_unreadable: { status: 400, message: 'request body must hold an order number' },
  upload_json_unreadable: { status: 400, message: 'JSON body must be {"order_number": "<digits>"}' },
  order_empty: { status: 400, message: 'order number is empty' },
  order_not_digits: { status: 422, message: 'order number must be decimal digits' },
  order_too_long: { status: 422, message: 'order number is too long' },
  order_fails_luhn: { status: 422, message: 'order number fails the Luhn check' },
  order_taken: { status: 409, message: 'order number was already uploaded by another user' },
  withdrawal_order_missing: { status: 400, message: 'order is required' },
  sum_invalid: { status: 422, message: 'sum must be a positive amount with at most 2 decimals' },
  insufficient_points: { status: 402, message: 'not enough points' },
  withdrawal_conflict: { status: 409, message: 'a different withdrawal already used this order number' },
  ledger_unavailable: { status: 502, message: 'wallet ledger unavailable' },
});

/** The refusal of each order-number problem (an empty number is unreadable, the rest unprocessable). */
export const orderNumberOutcome: Record<OrderNumberProblem, Outcome> = {
  empty: gophermartOutcomes.order_empty,
  not_digits: gophermartOutcomes.order_not_digits,
  too_long: gophermartOutcomes.order_too_long,
  fails_luhn: gophermartOutcomes.order_fails_luhn,
};
