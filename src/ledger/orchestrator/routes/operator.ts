import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { SharedSecret } from '../../../kernel/auth/shared-secret.js';
import { fail, kernelOutcomes, outcomeResponses } from '../../../kernel/http/outcome.js';
import { SECURITY, securedBy } from '../../../kernel/http/security.js';
import { DepositRequest, IdempotencyHeaders, TxAccepted, orchestratorOutcomes } from '../contract.js';
import type { OrchestratorRouteOptions } from './options.js';
import { amountFrom, idempotencyKey, operatorToken, walletIdFrom } from './parse.js';

/** Operator check: no Bearer token → 401; a wrong one, or deposits disabled (no ADMIN_TOKEN) → 403. */
export function adminGuard(adminToken: string | undefined) {
  const secret = adminToken === undefined ? undefined : new SharedSecret(adminToken);
  return securedBy(SECURITY.adminToken, async function guard(request: FastifyRequest): Promise<void> {
    const presented = SharedSecret.presented(request.headers.authorization);
    if (presented === undefined) fail(orchestratorOutcomes.operator_token_required);
    if (!secret) fail(orchestratorOutcomes.deposits_disabled);
    if (!secret.matches(presented)) fail(orchestratorOutcomes.wrong_operator_token);
  });
}

/** Money into a wallet: the operator's deposit. */
export const operatorRoutes: FastifyPluginAsyncTypebox<OrchestratorRouteOptions> = async (app, { service, operator }) => {
  const o = orchestratorOutcomes;

  app.post(
    '/api/admin/deposit',
    {
      onRequest: operator,
      config: { moneyFields: ['amount'] },
      schema: {
        tags: ['operator'],
        summary: 'Put money into a wallet (operator only)',
        description: 'Authorised by `Authorization: Bearer <ADMIN_TOKEN>`. Goes through the same pipeline and log as transfers.',
        headers: IdempotencyHeaders,
        body: DepositRequest,
        response: {
          202: TxAccepted,
          ...outcomeResponses(
            o.wallet_id_invalid,
            o.amount_invalid,
            o.amount_too_large,
            o.operator_token_required,
            o.deposits_disabled,
            o.wrong_operator_token,
            o.wallet_not_found,
            o.key_reused,
            kernelOutcomes.internal,
            kernelOutcomes.database_unavailable,
          ),
        },
      },
    },
    async (request, reply) => {
      const walletId = walletIdFrom(request.body.wallet_id, 'wallet_id');
      const amount = amountFrom(request, request.body.amount);
      const result = await service.deposit(walletId, amount, idempotencyKey(request, { operatorToken: operatorToken(request) }));
      if (!result.ok) fail(o[result.reason]);
      return reply.code(202).send({ tx_id: result.txId });
    },
  );
};
