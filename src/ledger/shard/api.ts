import type { FastifyRequest } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import { SharedSecret } from '../../kernel/auth/shared-secret.js';
import { fail, outcomes } from '../../kernel/http/outcome.js';
import { SECURITY, securedBy } from '../../kernel/http/security.js';
import { ErrorBody, type HttpApp } from '../../kernel/http/server.js';
import { MAX_AMOUNT_HUNDREDTHS } from '../../kernel/money.js';
import { BATCH_BODY_LIMIT, MAX_BATCH_OPS, TX_ID_PATTERN, WALLET_ID_PATTERN, shardPaths } from '../protocol.js';
import { runBatch } from './batch.js';
import type { ShardStore } from './store.js';

const Err = Type.Ref(ErrorBody);
const WalletId = Type.String({ pattern: WALLET_ID_PATTERN });
const Amount = Type.Integer({ minimum: 1, maximum: MAX_AMOUNT_HUNDREDTHS, description: 'integer hundredths' });
const TxParams = Type.Object({ txId: Type.String({ pattern: TX_ID_PATTERN }) });
const WalletParams = Type.Object({ id: WalletId });
const Result = (codes: string[], extra: Record<string, TSchema> = {}) =>
  Type.Object({ result: Type.Union(codes.map((c) => Type.Literal(c))), ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, Type.Optional(v)])) });

const TxId = Type.String({ pattern: TX_ID_PATTERN });
const HoldKind = Type.Union([Type.Literal('debit-hold'), Type.Literal('pending-credit')]);
const BatchOp = Type.Union([
  Type.Object({ op: Type.Literal('reserve'), tx_id: TxId, wallet_id: WalletId, kind: HoldKind, amount: Amount }),
  Type.Object({ op: Type.Literal('confirm'), tx_id: TxId }),
  Type.Object({ op: Type.Literal('cancel'), tx_id: TxId }),
  Type.Object({ op: Type.Literal('transfer'), tx_id: TxId, from_id: WalletId, to_id: WalletId, amount: Amount }),
  Type.Object({ op: Type.Literal('deposit'), tx_id: TxId, wallet_id: WalletId, amount: Amount }),
]);
/** Every code a batched operation can answer: its single route's 200 codes, or `error` (that route's 500). */
const BatchResult = Result(['reserved', 'confirmed', 'cancelled', 'insufficient_funds', 'unknown_wallet', 'conflict', 'not_found', 'error'], {
  reason: Type.String(),
  wallet_id: Type.String(),
});

const OperationResult = Result(['reserved', 'confirmed', 'cancelled', 'insufficient_funds', 'unknown_wallet', 'conflict'], { wallet_id: Type.String() });

const shardRefusals = outcomes({ wrong_token: { status: 401, message: 'missing or wrong shard token' } });

/** onRequest hook: only the orchestrator (Bearer SHARD_TOKEN) may call a shard. */
export function shardAuth(token: string) {
  const secret = new SharedSecret(token);
  return securedBy(SECURITY.shardToken, async function guard(request: FastifyRequest): Promise<void> {
    const presented = SharedSecret.presented(request.headers.authorization);
    if (presented === undefined || !secret.matches(presented)) fail(shardRefusals.wrong_token);
  });
}

/**
 * The shard's internal API. Domain outcomes are 200 with an explicit `result` code; only
 * malformed requests (400), a wrong token (401) and faults (500) use other statuses.
 */
export function registerShardRoutes(app: HttpApp, store: ShardStore, token: string): void {
  const onRequest = shardAuth(token);
  const base = { tags: ['shard'] };

  app.post(
    shardPaths.wallets,
    {
      onRequest,
      schema: {
        ...base,
        summary: 'Create a wallet (idempotent)',
        body: Type.Object({ wallet_id: WalletId }),
        response: { 200: Result(['created', 'exists']), 400: Err, 401: Err, 500: Err },
      },
    },
    async (request) => store.createWallet(request.body.wallet_id),
  );

  app.get(
    shardPaths.wallet(':id'),
    {
      onRequest,
      schema: {
        ...base,
        summary: 'Balance and reserved amount of a wallet',
        params: WalletParams,
        response: {
          200: Result(['ok', 'unknown_wallet'], { wallet_id: Type.String(), balance: Type.Integer(), reserved: Type.Integer() }),
          400: Err,
          401: Err,
          500: Err,
        },
      },
    },
    async (request) => store.wallet(request.params.id),
  );

  app.get(
    shardPaths.tx(':txId'),
    {
      onRequest,
      schema: {
        ...base,
        summary: 'State of a transaction on this shard',
        params: TxParams,
        response: {
          200: Result(['none', 'ok'], {
            kind: Type.String(),
            state: Type.String(),
            wallet_id: Type.Union([Type.String(), Type.Null()]),
            amount: Type.Union([Type.Integer(), Type.Null()]),
            reason: Type.Union([Type.String(), Type.Null()]),
          }),
          400: Err,
          401: Err,
          500: Err,
        },
      },
    },
    async (request) => store.txState(request.params.txId),
  );

  app.post(
    shardPaths.reserve(':txId'),
    {
      onRequest,
      schema: {
        ...base,
        summary: 'Phase 1: hold a debit or record a pending credit',
        params: TxParams,
        body: Type.Object({ wallet_id: WalletId, kind: HoldKind, amount: Amount }),
        response: { 200: OperationResult, 400: Err, 401: Err, 500: Err },
      },
    },
    async (request) => store.reserve(request.params.txId, request.body.wallet_id, request.body.kind, request.body.amount),
  );

  app.post(
    shardPaths.confirm(':txId'),
    {
      onRequest,
      schema: {
        ...base,
        summary: 'Phase 2: apply a reserved transaction',
        params: TxParams,
        response: { 200: Result(['confirmed', 'cancelled', 'not_found']), 400: Err, 401: Err, 500: Err },
      },
    },
    async (request) => store.confirm(request.params.txId),
  );

  app.post(
    shardPaths.cancel(':txId'),
    {
      onRequest,
      schema: {
        ...base,
        summary: 'Phase 2: release a reservation; before the reserve, blocks it for good',
        params: TxParams,
        response: { 200: Result(['cancelled', 'confirmed'], { reason: Type.String(), wallet_id: Type.String() }), 400: Err, 401: Err, 500: Err },
      },
    },
    async (request) => store.cancel(request.params.txId),
  );

  app.post(
    shardPaths.transfer(':txId'),
    {
      onRequest,
      schema: {
        ...base,
        summary: 'Transfer between two wallets of this shard in one local transaction',
        params: TxParams,
        body: Type.Object({ from_id: WalletId, to_id: WalletId, amount: Amount }),
        response: { 200: OperationResult, 400: Err, 401: Err, 500: Err },
      },
    },
    async (request, reply) => {
      if (request.body.from_id === request.body.to_id) return reply.code(400).send({ error: 'from_id and to_id must differ' });
      return store.transfer(request.params.txId, request.body.from_id, request.body.to_id, request.body.amount);
    },
  );

  app.post(
    shardPaths.deposit(':txId'),
    {
      onRequest,
      schema: {
        ...base,
        summary: 'Credit a wallet (money entering the ledger)',
        params: TxParams,
        body: Type.Object({ wallet_id: WalletId, amount: Amount }),
        response: { 200: OperationResult, 400: Err, 401: Err, 500: Err },
      },
    },
    async (request) => store.deposit(request.params.txId, request.body.wallet_id, request.body.amount),
  );

  app.post(
    shardPaths.batch,
    {
      onRequest,
      bodyLimit: BATCH_BODY_LIMIT,
      schema: {
        ...base,
        summary: 'Several reserve/confirm/cancel/transfer/deposit operations in one request',
        description:
          'Each operation is the one of its single route (`/internal/tx/:txId/<op>`), idempotent per tx_id, run in order; ' +
          '`results[i]` is what that route answers for `ops[i]` (`error` where it would answer 500). The answer comes once every operation is durable. ' +
          `A malformed operation (or more than ${MAX_BATCH_OPS}) makes the whole batch a 400 and nothing runs.`,
        body: Type.Object({ ops: Type.Array(BatchOp, { minItems: 1, maxItems: MAX_BATCH_OPS }) }),
        response: { 200: Type.Object({ results: Type.Array(BatchResult) }), 400: Err, 401: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const { ops } = request.body;
      // checked before anything runs, so a bad operation changes nothing
      const same = ops.findIndex((o) => o.op === 'transfer' && o.from_id === o.to_id);
      if (same >= 0) return reply.code(400).send({ error: `ops[${same}]: from_id and to_id must differ` });
      return { results: await runBatch(store, ops, request.log) };
    },
  );
}
