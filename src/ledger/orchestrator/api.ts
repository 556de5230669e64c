import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { LoginThrottle } from '../../kernel/auth/login-throttle.js';
import type { TokenService } from '../../kernel/auth/tokens.js';
import { SharedSecret } from '../../kernel/auth/shared-secret.js';
import { authGuard } from '../../kernel/http/auth.js';
import { registerAuthRoutes } from '../../kernel/http/auth-routes.js';
import { HttpError, badRequest, unauthorized } from '../../kernel/http/errors.js';
import { ErrorBody, type HttpApp } from '../../kernel/http/server.js';
import { formatHundredths, hundredthsToNumber, parsePositiveAmount } from '../../kernel/money.js';
import { formatRfc3339 } from '../../kernel/time.js';
import { WALLET_ID_MAX } from '../protocol.js';
import type { LedgerService } from './service.js';

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
  amount: Type.String({ description: 'signed, two decimals: "+50.00" in, "-50.00" out' }),
  status: Status,
  note: Type.String(),
  initiated_at: Type.String({ format: 'date-time' }),
});
const Balance = Type.Object({ wallet_id: Type.String(), balance: Type.Number(), reserved: Type.Number({ description: 'held by transfers in progress' }) });
const WalletParam = Type.Object({ id: Type.String() });
const EmptyJson = Type.Null({ description: 'no content' });

function userId(request: FastifyRequest): number {
  const id = Number(request.subject);
  if (!Number.isSafeInteger(id) || id <= 0) throw unauthorized();
  return id;
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
  return async function guard(request: FastifyRequest): Promise<void> {
    const presented = SharedSecret.presented(request.headers.authorization);
    if (presented === undefined) throw new HttpError(401, 'operator token required (Authorization: Bearer <ADMIN_TOKEN>)');
    if (!secret) throw new HttpError(403, 'deposits are disabled: ADMIN_TOKEN is not set');
    if (!secret.matches(presented)) throw new HttpError(403, 'wrong operator token');
  };
}

export function registerLedgerRoutes(
  app: HttpApp,
  service: LedgerService,
  tokens: TokenService,
  throttle: LoginThrottle,
  adminToken: string | undefined,
): void {
  const guard = authGuard(tokens);
  const security: Array<Record<string, string[]>> = [{ bearer: [] }, { cookie: [] }];

  async function ownWallet(request: FastifyRequest, id: string) {
    const walletId = walletIdFrom(id, 'wallet id');
    const access = await service.access(userId(request), walletId);
    if (!access.ok)
      throw new HttpError(access.reason === 'forbidden' ? 403 : 404, access.reason === 'forbidden' ? 'wallet belongs to another user' : 'wallet not found');
    return access.wallet;
  }

  registerAuthRoutes(app, { register: '/auth/register', login: '/auth/login' }, service.accounts, tokens, throttle);

  app.post(
    '/api/user/create_wallet',
    {
      onRequest: guard,
      schema: {
        tags: ['wallets'],
        summary: 'Create a wallet on its shard (id % N)',
        security,
        body: Type.Object({ wallet_id: IdValue }),
        response: { 202: WalletAccepted, 400: Err, 401: Err, 409: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const walletId = walletIdFrom(request.body.wallet_id, 'wallet_id');
      const result = await service.createWallet(userId(request), walletId);
      if (result === 'taken') return reply.code(409).send({ error: 'wallet id is already taken' });
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
          'Accepted transfers end SUCCESSFUL, INVALID (e.g. `not enough funds in the wallet`, unknown receiver) or FAILED; follow them with GET /api/user/transactions/{id}.',
        security,
        body: Type.Object({ from_id: IdValue, to_id: IdValue, amount: AmountValue }),
        response: { 202: Accepted, 400: Err, 401: Err, 403: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const from = walletIdFrom(request.body.from_id, 'from_id');
      const to = walletIdFrom(request.body.to_id, 'to_id');
      const amount = amountFrom(request.body.amount);
      if (from === to) throw badRequest('from_id and to_id must be different wallets');
      const result = await service.transfer(userId(request), from, to, amount);
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
        summary: "A wallet's transactions, oldest first",
        security,
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
        amount: formatHundredths(e.from_wallet === wallet.id ? -e.amount : e.amount, true),
        status: e.status,
        note: e.note,
        initiated_at: formatRfc3339(e.initiated_at),
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
        security,
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
        security: [{ bearer: [] }],
        body: Type.Object({ wallet_id: IdValue, amount: AmountValue }),
        response: { 202: Accepted, 400: Err, 401: Err, 403: Err, 404: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const walletId = walletIdFrom(request.body.wallet_id, 'wallet_id');
      const amount = amountFrom(request.body.amount);
      const result = await service.deposit(walletId, amount);
      if (!result.ok) return reply.code(404).send({ error: 'wallet not found' });
      return reply.code(202).send({ tx_id: result.txId });
    },
  );
}
