import type { FastifyRequest } from 'fastify';
import { SharedSecret } from '../../../kernel/auth/shared-secret.js';
import { numberLiteral } from '../../../kernel/http/body.js';
import { fail } from '../../../kernel/http/outcome.js';
import { isDigits } from '../../../kernel/luhn.js';
import { parsePositiveAmount } from '../../../kernel/money.js';
import { WALLET_ID_MAX, WALLET_ID_PATTERN } from '../../protocol.js';
import { orchestratorOutcomes } from '../contract.js';
import type { Caller, IdempotencyKey } from '../service.js';

const WALLET_ID = new RegExp(WALLET_ID_PATTERN);

/**
 * A wallet id from a URL path (`/api/user/balance/:id`). SPEC lists 403/404 there, not 400:
 * a path that is not decimal digits names no wallet that could exist, so it is not found.
 */
export function walletIdInPath(value: string): string {
  if (!WALLET_ID.test(value)) fail(orchestratorOutcomes.wallet_not_found);
  return value;
}

/**
 * A wallet id from JSON: a string of decimal digits and nothing else, bounded length. A JSON
 * number is refused: parsed, it is a float, and `1.2e1` would name wallet 12.
 */
export function walletIdFrom(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isDigits(value)) fail(orchestratorOutcomes.wallet_id_invalid, `${field} must be a string of decimal digits`);
  if (value.length > WALLET_ID_MAX) fail(orchestratorOutcomes.wallet_id_invalid, `${field} must be at most ${WALLET_ID_MAX} digits`);
  return value;
}

/**
 * Member `amount` of the body (the route lists it in `config.moneyFields`): a positive amount
 * with at most 2 decimals and at most MAX_AMOUNT_HUNDREDTHS, string or number — a number judged
 * on its literal — as hundredths.
 */
export function amountFrom(request: FastifyRequest, value: unknown): number {
  const parsed = parsePositiveAmount(value, true, numberLiteral(request, 'amount'));
  if (!parsed.ok) fail(parsed.reason === 'too_large' ? orchestratorOutcomes.amount_too_large : orchestratorOutcomes.amount_invalid);
  return parsed.hundredths;
}

/** The request's Idempotency-Key (the route schema has checked its form), scoped to `caller`. */
export function idempotencyKey(request: FastifyRequest, caller: Caller): IdempotencyKey | undefined {
  const key = request.headers['idempotency-key'];
  return typeof key === 'string' ? { caller, key } : undefined;
}

/** The operator token presented (the operator guard has checked it): deposits' keys are scoped to it. */
export function operatorToken(request: FastifyRequest): string {
  return SharedSecret.presented(request.headers.authorization) ?? '';
}
