import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { SharedSecret } from '../../kernel/auth/shared-secret.js';
import { errorResponse, fail, kernelOutcomes, outcomeResponses } from '../../kernel/http/outcome.js';
import { SECURITY, securedBy } from '../../kernel/http/security.js';
import type { HttpApp } from '../../kernel/http/server.js';
import {
  BATCH_BODY_LIMIT,
  BatchOp,
  BatchResult,
  CancelResult,
  ConfirmResult,
  CreateWalletBody,
  CreateWalletResult,
  DepositBody,
  MAX_BATCH_OPS,
  OperationResult,
  ReserveBody,
  TransferBody,
  TxId,
  TxStateResult,
  WalletId,
  WalletResult,
  shardPaths,
} from '../protocol.js';
import { resultSchema, shardOutcomes } from './contract.js';
import { runBatch } from './batch.js';
import type { ShardStore } from './store.js';

const TxParams = Type.Object({ txId: TxId });
const WalletParams = Type.Object({ id: WalletId });
const errors = outcomeResponses(shardOutcomes.wrong_token, kernelOutcomes.internal, kernelOutcomes.database_unavailable);
const Malformed = { 400: errorResponse('malformed request: invalid path parameter or body') };
const SameWallet = { 400: errorResponse(`malformed request, or a transfer with \`${shardOutcomes.same_wallet.message}\``) };

/** onRequest hook: only the orchestrator (Bearer SHARD_TOKEN) may call a shard. */
export function shardAuth(token: string) {
  const secret = new SharedSecret(token);
  return securedBy(SECURITY.shardToken, async function guard(request: FastifyRequest): Promise<void> {
    const presented = SharedSecret.presented(request.headers.authorization);
    if (presented === undefined || !secret.matches(presented)) fail(shardOutcomes.wrong_token);
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
        body: CreateWalletBody,
        response: { 200: resultSchema(CreateWalletResult, 'created now, or it existed already'), ...Malformed, ...errors },
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
        response: { 200: resultSchema(WalletResult, 'balance and reserved in integer hundredths, or unknown_wallet'), ...Malformed, ...errors },
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
        response: { 200: resultSchema(TxStateResult, 'what this shard knows of the transaction (none: nothing)'), ...Malformed, ...errors },
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
        body: ReserveBody,
        response: { 200: resultSchema(OperationResult, 'what the first reserve under this id decided'), ...Malformed, ...errors },
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
        response: { 200: resultSchema(ConfirmResult, 'confirmed (also again), cancelled (too late), or not_found'), ...Malformed, ...errors },
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
        response: { 200: resultSchema(CancelResult, 'cancelled with its reason, or confirmed (too late)'), ...Malformed, ...errors },
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
        body: TransferBody,
        response: {
          200: resultSchema(OperationResult, 'what the first transfer under this id decided'),
          ...SameWallet,
          ...errors,
        },
      },
    },
    async (request) => {
      if (request.body.from_id === request.body.to_id) fail(shardOutcomes.same_wallet);
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
        body: DepositBody,
        response: { 200: resultSchema(OperationResult, 'what the first deposit under this id decided'), ...Malformed, ...errors },
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
        response: {
          200: Type.Object(
            { results: Type.Array(resultSchema(BatchResult, 'what the single route answers for this operation, or error')) },
            { description: 'one result per operation, in the order of `ops`' },
          ),
          ...SameWallet,
          ...errors,
        },
      },
    },
    async (request) => {
      const { ops } = request.body;
      // checked before anything runs, so a bad operation changes nothing
      const same = ops.findIndex((o) => o.op === 'transfer' && o.from_id === o.to_id);
      if (same >= 0) fail(shardOutcomes.same_wallet, `ops[${same}]: from_id and to_id must differ`);
      return { results: await runBatch(store, ops, request.log) };
    },
  );
}
