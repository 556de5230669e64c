import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { NoItems, sendList } from '../../../kernel/http/lists.js';
import { fail, kernelOutcomes, outcomeResponses } from '../../../kernel/http/outcome.js';
import { formatHundredths } from '../../../kernel/money.js';
import { formatRfc3339 } from '../../../kernel/time.js';
import { HistoryEntry, IdempotencyHeaders, TransferRequest, TxAccepted, WalletParams, orchestratorOutcomes } from '../contract.js';
import type { OrchestratorRouteOptions } from './options.js';
import { amountFrom, idempotencyKey, walletIdFrom, walletIdInPath } from './parse.js';

/**
 * Send a transfer; read a wallet's history. What becomes of an accepted transfer (SUCCESSFUL,
 * or INVALID `not enough funds in the wallet`, …) is decided by the state machine in
 * ../machine.ts (`next`, `decide`, `localOutcome`); the notes are in ../contract.ts.
 */
export const transactionRoutes: FastifyPluginAsyncTypebox<OrchestratorRouteOptions> = async (app, { service, signedIn }) => {
  const o = orchestratorOutcomes;
  const k = kernelOutcomes;

  app.post(
    '/api/user/do_transaction',
    {
      onRequest: signedIn,
      config: { moneyFields: ['amount'] },
      schema: {
        tags: ['transactions'],
        summary: "Transfer from one of the caller's wallets to any wallet",
        description:
          'Accepted transfers end SUCCESSFUL, INVALID (e.g. `not enough funds in the wallet`, unknown receiver) or FAILED; follow them with GET /api/user/transactions/{id}. Without an Idempotency-Key every request is a new transfer.',
        headers: IdempotencyHeaders,
        body: TransferRequest,
        response: {
          202: TxAccepted,
          ...outcomeResponses(
            o.wallet_id_invalid,
            o.amount_invalid,
            o.amount_too_large,
            o.same_wallet,
            k.unauthorized,
            o.not_your_sender,
            o.key_reused,
            k.internal,
            k.database_unavailable,
          ),
        },
      },
    },
    async (request, reply) => {
      const from = walletIdFrom(request.body.from_id, 'from_id');
      const to = walletIdFrom(request.body.to_id, 'to_id');
      const amount = amountFrom(request, request.body.amount);
      if (from === to) fail(o.same_wallet);
      const user = request.userId;
      const result = await service.transfer(user, from, to, amount, idempotencyKey(request, { user }));
      if (!result.ok) fail(o[result.reason]);
      return reply.code(202).send({ tx_id: result.txId });
    },
  );

  app.get(
    '/api/user/transactions/:id',
    {
      onRequest: signedIn,
      schema: {
        tags: ['transactions'],
        summary: "A wallet's transactions in initiated_at order",
        description: 'Transfers the wallet sent (any status) and deposits into it; transfers it received only once SUCCESSFUL.',
        params: WalletParams,
        response: {
          200: Type.Array(HistoryEntry, { description: 'the history, in initiated_at order (ties: acceptance order)' }),
          204: NoItems,
          ...outcomeResponses(k.unauthorized, o.wallet_forbidden, o.wallet_not_found, k.internal, k.database_unavailable),
        },
      },
    },
    async (request, reply) => {
      const access = await service.access(request.userId, walletIdInPath(request.params.id));
      if (!access.ok) fail(o[access.reason]);
      const id = access.wallet.id;
      const entries = await service.walletLog(id);
      return sendList(
        reply,
        entries.map((e) => ({
          tx_id: e.tx_id,
          wallet_id: id,
          kind: e.kind,
          ...(e.kind === 'transfer' ? { counterparty: (e.from_wallet === id ? e.to_wallet : e.from_wallet) ?? '' } : {}),
          amount: formatHundredths(e.from_wallet === id ? -e.amount : e.amount, true),
          status: e.status,
          note: e.note,
          initiated_at: formatRfc3339(e.initiated_at),
        })),
      );
    },
  );
};
