import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { NoItems, sendList } from '../../../kernel/http/lists.js';
import { fail, kernelOutcomes, outcomeResponses } from '../../../kernel/http/outcome.js';
import { hundredthsToNumber } from '../../../kernel/money.js';
import { formatRfc3339 } from '../../../kernel/time.js';
import { CreateWalletRequest, IdempotencyHeaders, WalletAccepted, WalletBalance, WalletListItem, WalletParams, orchestratorOutcomes } from '../contract.js';
import type { OrchestratorRouteOptions } from './options.js';
import { idempotencyKey, walletIdFrom, walletIdInPath } from './parse.js';

/** Create a wallet; list the caller's wallets; one wallet's balance. */
export const walletRoutes: FastifyPluginAsyncTypebox<OrchestratorRouteOptions> = async (app, { service, signedIn }) => {
  const o = orchestratorOutcomes;
  const k = kernelOutcomes;

  app.post(
    '/api/user/create_wallet',
    {
      onRequest: signedIn,
      schema: {
        tags: ['wallets'],
        summary: 'Create a wallet on its shard (id % N)',
        description: 'Creating a wallet you already own is accepted again (202); an id owned by someone else is 409.',
        headers: IdempotencyHeaders,
        body: CreateWalletRequest,
        response: {
          202: { ...WalletAccepted, description: 'accepted (also again for a wallet you own): it is created on its shard' },
          ...outcomeResponses(o.wallet_id_invalid, k.unauthorized, o.wallet_taken, o.key_reused, k.internal, k.database_unavailable),
        },
      },
    },
    async (request, reply) => {
      const walletId = walletIdFrom(request.body.wallet_id, 'wallet_id');
      const user = request.userId;
      const result = await service.createWallet(user, walletId, idempotencyKey(request, { user }));
      if (result !== 'accepted') fail(result === 'unknown_user' ? k.unauthorized : o[result]);
      return reply.code(202).send({ wallet_id: walletId });
    },
  );

  app.get(
    '/api/user/wallets',
    {
      onRequest: signedIn,
      schema: {
        tags: ['wallets'],
        summary: "The caller's wallets, oldest first, with their balances",
        description: 'Amounts are JSON numbers. A wallet its shard has not acknowledged yet is CREATING (balance 0).',
        response: {
          200: Type.Array(WalletListItem, { description: "the caller's wallets, oldest first" }),
          204: NoItems,
          ...outcomeResponses(k.unauthorized, k.internal, k.database_unavailable, o.shard_unavailable),
        },
      },
    },
    async (request, reply) => {
      const wallets = await service.wallets(request.userId);
      if (wallets === 'unavailable') fail(o.shard_unavailable, 'a wallet’s shard is not answering; try again');
      return sendList(
        reply,
        wallets.map((w) => ({
          wallet_id: w.id,
          status: w.status,
          balance: hundredthsToNumber(w.balance),
          reserved: hundredthsToNumber(w.reserved),
          created_at: formatRfc3339(w.createdAt),
        })),
      );
    },
  );

  app.get(
    '/api/user/balance/:id',
    {
      onRequest: signedIn,
      schema: {
        tags: ['wallets'],
        summary: "A wallet's balance and the part held by transfers in progress",
        description: 'Amounts are JSON numbers (500.5 = 500.50). `balance` includes `reserved`; what can be sent is balance − reserved.',
        params: WalletParams,
        response: {
          200: { ...WalletBalance, description: 'the balance as its shard holds it' },
          ...outcomeResponses(k.unauthorized, o.wallet_forbidden, o.wallet_not_found, k.internal, k.database_unavailable, o.shard_unavailable),
        },
      },
    },
    async (request) => {
      const access = await service.access(request.userId, walletIdInPath(request.params.id));
      if (!access.ok) fail(o[access.reason]);
      const balance = await service.balance(access.wallet);
      if (balance === 'unavailable') fail(o.shard_unavailable);
      return { wallet_id: access.wallet.id, balance: hundredthsToNumber(balance.balance), reserved: hundredthsToNumber(balance.reserved) };
    },
  );
};
