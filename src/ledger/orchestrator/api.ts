import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TokenService } from '../../kernel/auth/tokens.js';
import { SharedSecret } from '../../kernel/auth/shared-secret.js';
import { authGuard } from '../../kernel/http/auth.js';
import { registerAuthRoutes } from '../../kernel/http/auth-routes.js';
import { HttpError, badRequest, unauthorized } from '../../kernel/http/errors.js';
import { SECURITY, securedBy } from '../../kernel/http/security.js';
import { ErrorBody, type HttpApp } from '../../kernel/http/server.js';
import { formatHundredths, hundredthsToNumber, parsePositiveAmount } from '../../kernel/money.js';
import { formatRfc3339 } from '../../kernel/time.js';
import { WALLET_ID_MAX } from '../protocol.js';
import type { Caller, IdempotencyKey, LedgerService } from './service.js';

const Err = Type.Ref(ErrorBody);

const IdValue = Type.Union([Type.String(), Type.Integer({ minimum: 0 })], {
  description: 'wallet id: decimal digits (a string; a non-negative integer is accepted too)',
});
const AmountValue = Type.Union([Type.String(), Type.Number()], { description: 'positive amount, at most 2 decimals: "50", "50.25" or 50.25' });
const Accepted = Type.Object({ tx_id: Type.String() });
const WalletAccepted = Type.Object({ wallet_id: Type.String() });
const Status = Type.Union(['PENDING', 'PROCESSING', 'INVALID', 'FAILED', 'SUCCESSFUL'].map((s) => Type.Literal(s)));
const LogItem = Type.Object({
  tx_id: Type.String(),
  wallet_id: Type.String(),
  kind: Type.Union([Type.Literal('deposit'), Type.Literal('transfer')]),
  counterparty: Type.Optional(Type.String({ description: "transfers only: the other wallet's id (receiver of an outgoing, sender of an incoming one)" })),
  amount: Type.String({ description: 'signed, two decimals: "+50.00" in, "-50.00" out' }),
  status: Status,
  note: Type.String(),
  initiated_at: Type.String({ format: 'date-time' }),
});
const WalletItem = Type.Object({
  wallet_id: Type.String(),
  status: Type.Union([Type.Literal('CREATING'), Type.Literal('ACTIVE')], { description: 'CREATING until its shard has acknowledged the wallet' }),
  balance: Type.Number(),
  reserved: Type.Number({ description: 'held by transfers in progress' }),
  created_at: Type.String({ format: 'date-time' }),
});

/** 1–255 visible ASCII characters (what SPEC allows); anything else is 400 and nothing happens. */
export const IDEMPOTENCY_KEY_PATTERN = '^[!-~]{1,255}$';
const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      pattern: IDEMPOTENCY_KEY_PATTERN,
      description:
        'Makes a retry safe: a repeat with the same key and body (from the same caller, within 24 h) is answered as the first request was and does nothing again; the same key with another body is 422. 1–255 visible ASCII characters.',
    }),
  ),
});
export const KEY_REUSED = 'idempotency key reused with a different request';
const Balance = Type.Object({ wallet_id: Type.String(), balance: Type.Number(), reserved: Type.Number({ description: 'held by transfers in progress' }) });
const WalletParam = Type.Object({ id: Type.String() });
const EmptyJson = Type.Null({ description: 'no content' });

function idempotencyKey(request: FastifyRequest, caller: Caller): IdempotencyKey | undefined {
  const key = request.headers['idempotency-key'];
  return typeof key === 'string' ? { caller, key } : undefined;
}

/** The operator token presented (the guard has checked it): deposits' idempotency keys are scoped to it. */
function operatorToken(request: FastifyRequest): string {
  return SharedSecret.presented(request.headers.authorization) ?? '';
}

/** A wallet id from JSON: digit string (or a non-negative safe integer), bounded length. */
export function walletIdFrom(value: unknown, field: string): string {
  const text = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined || !/^[0-9]+$/.test(text)) throw badRequest(`${field} must be a string of decimal digits`);
  if (text.length > WALLET_ID_MAX) throw badRequest(`${field} must be at most ${WALLET_ID_MAX} digits`);
  return text;
}

function amountFrom(value: unknown): number {
  const parsed = parsePositiveAmount(value, true);
  if (!parsed.ok) throw badRequest('amount must be a positive decimal with at most 2 fraction digits');
  return parsed.hundredths;
}

/** Operator check: no Bearer token → 401; a wrong one, or deposits disabled (no ADMIN_TOKEN) → 403. */
export function adminGuard(adminToken: string | undefined) {
  const secret = adminToken === undefined ? undefined : new SharedSecret(adminToken);
  return securedBy(SECURITY.adminToken, async function guard(request: FastifyRequest): Promise<void> {
    const presented = SharedSecret.presented(request.headers.authorization);
    if (presented === undefined) throw new HttpError(401, 'operator token required (Authorization: Bearer <ADMIN_TOKEN>)');
    if (!secret) throw new HttpError(403, 'deposits are disabled: ADMIN_TOKEN is not set');
    if (!secret.matches(presented)) throw new HttpError(403, 'wrong operator token');
  });
}

export function registerLedgerRoutes(app: HttpApp, service: LedgerService, tokens: TokenService, adminToken: string | undefined): void {
  const guard = authGuard(tokens);

  async function ownWallet(request: FastifyRequest, id: string) {
    const walletId = walletIdFrom(id, 'wallet id');
    const access = await service.access(request.userId, walletId);
    if (!access.ok)
      throw new HttpError(access.reason === 'forbidden' ? 403 : 404, access.reason === 'forbidden' ? 'wallet belongs to another user' : 'wallet not found');
    return access.wallet;
  }

  registerAuthRoutes(app, { register: '/auth/register', login: '/auth/login' }, service.accounts, tokens);

  app.post(
    '/api/user/create_wallet',
    {
      onRequest: guard,
      schema: {
        tags: ['wallets'],
        summary: 'Create a wallet on its shard (id % N)',
        description: 'Creating a wallet you already own is accepted again (202); an id owned by someone else is 409.',
        headers: IdempotencyHeaders,
        body: Type.Object({ wallet_id: IdValue }),
        response: { 202: WalletAccepted, 400: Err, 401: Err, 409: Err, 422: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const walletId = walletIdFrom(request.body.wallet_id, 'wallet_id');
      const user = request.userId;
      const result = await service.createWallet(user, walletId, idempotencyKey(request, { user }));
      if (result === 'taken') return reply.code(409).send({ error: 'wallet id is already taken' });
      if (result === 'key_reused') return reply.code(422).send({ error: KEY_REUSED });
      if (result === 'unknown_user') throw unauthorized();
      return reply.code(202).send({ wallet_id: walletId });
    },
  );

  app.post(
    '/api/user/do_transaction',
    {
      onRequest: guard,
      schema: {
        tags: ['transactions'],
        summary: "Transfer from one of the caller's wallets to any wallet",
        description:
          'Accepted transfers end SUCCESSFUL, INVALID (e.g. `not enough funds in the wallet`, unknown receiver) or FAILED; follow them with GET /api/user/transactions/{id}. Without an Idempotency-Key every request is a new transfer.',
        headers: IdempotencyHeaders,
        body: Type.Object({ from_id: IdValue, to_id: IdValue, amount: AmountValue }),
        response: { 202: Accepted, 400: Err, 401: Err, 403: Err, 422: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const from = walletIdFrom(request.body.from_id, 'from_id');
      const to = walletIdFrom(request.body.to_id, 'to_id');
      const amount = amountFrom(request.body.amount);
      if (from === to) throw badRequest('from_id and to_id must be different wallets');
      const user = request.userId;
      const result = await service.transfer(user, from, to, amount, idempotencyKey(request, { user }));
      if (!result.ok && result.reason === 'key_reused') return reply.code(422).send({ error: KEY_REUSED });
      if (!result.ok) return reply.code(403).send({ error: 'from_id is not one of your wallets' });
      return reply.code(202).send({ tx_id: result.txId });
    },
  );

  app.get(
    '/api/user/transactions/:id',
    {
      onRequest: guard,
      schema: {
        tags: ['transactions'],
        summary: "A wallet's transactions in initiated_at order",
        description: 'Transfers the wallet sent (any status) and deposits into it; transfers it received only once SUCCESSFUL.',
        params: WalletParam,
        response: { 200: Type.Array(LogItem), 204: EmptyJson, 400: Err, 401: Err, 403: Err, 404: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const wallet = await ownWallet(request, request.params.id);
      const entries = await service.walletLog(wallet.id);
      if (entries.length === 0) return (reply as FastifyReply).code(204).header('content-type', 'application/json').send();
      return entries.map((e) => ({
        tx_id: e.tx_id,
        wallet_id: wallet.id,
        kind: e.kind,
        ...(e.kind === 'transfer' ? { counterparty: (e.from_wallet === wallet.id ? e.to_wallet : e.from_wallet) ?? '' } : {}),
        amount: formatHundredths(e.from_wallet === wallet.id ? -e.amount : e.amount, true),
        status: e.status,
        note: e.note,
        initiated_at: formatRfc3339(e.initiated_at),
      }));
    },
  );

  app.get(
    '/api/user/wallets',
    {
      onRequest: guard,
      schema: {
        tags: ['wallets'],
        summary: "The caller's wallets, oldest first, with their balances",
        description: 'Amounts are JSON numbers. A wallet its shard has not acknowledged yet is CREATING (balance 0).',
        response: { 200: Type.Array(WalletItem), 204: EmptyJson, 401: Err, 500: Err, 503: Err },
      },
    },
    async (request, reply) => {
      const wallets = await service.wallets(request.userId);
      if (wallets === 'unavailable') return reply.code(503).send({ error: 'a wallet’s shard is not answering; try again' });
      if (wallets.length === 0) return (reply as FastifyReply).code(204).header('content-type', 'application/json').send();
      return wallets.map((w) => ({
        wallet_id: w.id,
        status: w.status,
        balance: hundredthsToNumber(w.balance),
        reserved: hundredthsToNumber(w.reserved),
        created_at: formatRfc3339(w.createdAt),
      }));
    },
  );

  app.get(
    '/api/user/balance/:id',
    {
      onRequest: guard,
      schema: {
        tags: ['wallets'],
        summary: "A wallet's balance and the part held by transfers in progress",
        description: 'Amounts are JSON numbers (500.5 = 500.50). `balance` includes `reserved`; what can be sent is balance − reserved.',
        params: WalletParam,
        response: { 200: Balance, 400: Err, 401: Err, 403: Err, 404: Err, 500: Err, 503: Err },
      },
    },
    async (request, reply) => {
      const wallet = await ownWallet(request, request.params.id);
      const balance = await service.balance(wallet);
      if (balance === 'unavailable') return reply.code(503).send({ error: 'the wallet’s shard is not answering; try again' });
      return { wallet_id: wallet.id, balance: hundredthsToNumber(balance.balance), reserved: hundredthsToNumber(balance.reserved) };
    },
  );

  app.post(
    '/api/admin/deposit',
    {
      onRequest: adminGuard(adminToken),
      schema: {
        tags: ['operator'],
        summary: 'Put money into a wallet (operator only)',
        description: 'Authorised by `Authorization: Bearer <ADMIN_TOKEN>`. Goes through the same pipeline and log as transfers.',
        headers: IdempotencyHeaders,
        body: Type.Object({ wallet_id: IdValue, amount: AmountValue }),
        response: { 202: Accepted, 400: Err, 401: Err, 403: Err, 404: Err, 422: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const walletId = walletIdFrom(request.body.wallet_id, 'wallet_id');
      const amount = amountFrom(request.body.amount);
      const result = await service.deposit(walletId, amount, idempotencyKey(request, { operatorToken: operatorToken(request) }));
      if (!result.ok && result.reason === 'key_reused') return reply.code(422).send({ error: KEY_REUSED });
      if (!result.ok) return reply.code(404).send({ error: 'wallet not found' });
      return reply.code(202).send({ tx_id: result.txId });
    },
  );
}
