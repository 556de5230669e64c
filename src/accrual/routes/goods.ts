import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { decimalToNumber } from '../../kernel/decimal.js';
import { numberLiteralAt } from '../../kernel/http/body.js';
import { errorResponse, fail, kernelOutcomes, outcomeResponses } from '../../kernel/http/outcome.js';
import { GoodsRule, accrualOutcomes, ruleOutcome } from '../contract.js';
import { checkRule } from '../service.js';
import type { AccrualRouteOptions } from './options.js';

/** Reward rules for goods. */
export const goodsRoutes: FastifyPluginAsyncTypebox<AccrualRouteOptions> = async (app, { service }) => {
  app.post(
    '/api/goods',
    {
      config: { numberText: true },
      schema: {
        tags: ['rules'],
        summary: 'Register a reward rule',
        description: 'A good earns from at most one rule: the longest `match` contained in its description, ties going to the earliest registered.',
        body: GoodsRule,
        response: {
          200: { ...GoodsRule, description: 'registered: the rule as stored' },
          400: errorResponse(
            `bad format: not JSON, ${Object.values(ruleOutcome)
              .map((o) => `\`${o.message}\``)
              .join(' · ')}`,
          ),
          ...outcomeResponses(accrualOutcomes.rule_exists, kernelOutcomes.internal, kernelOutcomes.database_unavailable),
        },
      },
    },
    async (request) => {
      const { match, reward, reward_type } = request.body;
      const checked = checkRule(match, reward, reward_type, numberLiteralAt(request, ['reward']));
      if (!checked.ok) fail(ruleOutcome[checked.problem]);
      const outcome = await service.registerRule(checked.value);
      if (outcome === 'exists') fail(accrualOutcomes.rule_exists);
      return { match, reward: decimalToNumber(checked.value.reward), reward_type };
    },
  );
};
