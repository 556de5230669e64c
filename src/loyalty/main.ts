import { parseServiceUrl } from '../kernel/address.js';
import { LoginThrottle } from '../kernel/auth/login-throttle.js';
import { loginLimits } from '../kernel/settings.js';
import { startService, type RunningService, type ServiceDeps } from '../kernel/service.js';
import { AccrualClient } from './accrual-client.js';
import { registerLoyaltyRoutes } from './api.js';
import type { LoyaltyConfig } from './config.js';
import { SCHEMA, migrations } from './migrations.js';
import { AccrualPoller } from './poller.js';
import { LoyaltyService } from './service.js';
import { LoyaltyStore } from './store.js';
import { registerWebApp } from './web.js';

export type LoyaltyRunning = RunningService<{ store: LoyaltyStore }>;
export type LoyaltyDeps = ServiceDeps;

export function startLoyalty(config: LoyaltyConfig, deps: LoyaltyDeps): Promise<LoyaltyRunning> {
  return startService(config, deps, {
    name: 'gophermart',
    title: 'Gophermart loyalty service',
    description: 'Accounts, order numbers, points balance and withdrawals.',
    schema: SCHEMA,
    migrations,
    async build({ db, metrics, app, logger, tokens }) {
      const store = new LoyaltyStore(db);
      const accrualUrl = parseServiceUrl(config.accrualAddress);
      const accrual = new AccrualClient(accrualUrl, { timeoutMs: config.accrualTimeoutMs, connections: Math.max(1, config.pollConcurrency) });
      const poller = new AccrualPoller(
        {
          concurrency: config.pollConcurrency,
          intervalMs: config.pollIntervalMs,
          backoffBaseMs: config.pollBackoffBaseMs,
          backoffMaxMs: config.pollBackoffMaxMs,
          assumedLimitPerMinute: config.pollAssumedLimit,
          timeoutMs: config.accrualTimeoutMs,
          retries: config.accrualRetries,
          leaseMs: config.pollLeaseMs,
        },
        { store, client: accrual, logger, metrics },
      );
      registerLoyaltyRoutes(
        app,
        new LoyaltyService(store, { orderAccepted: () => poller.wake() }),
        await tokens(config, 'gophermart'),
        new LoginThrottle(db, SCHEMA, loginLimits(config)),
      );
      await registerWebApp(app, { logger, orchestratorUrl: parseServiceUrl(config.orchestratorAddress) });
      return {
        extras: { store },
        start: () => poller.start(),
        async stop() {
          // the poller hands its claims back through the database, so it stops before the database closes
          await poller.stop();
          await accrual.close();
        },
        describe: { accrual: accrualUrl, pollConcurrency: config.pollConcurrency },
      };
    },
  });
}
