import type { Registry } from 'prom-client';
import { loadOrCreateSecret } from '../kernel/auth/secret.js';
import { createTokenService } from '../kernel/auth/tokens.js';
import type { Database } from '../kernel/db/database.js';
import { migrate } from '../kernel/db/migrate.js';
import { openDatabase } from '../kernel/db/open.js';
import { listen } from '../kernel/http/listen.js';
import { createHttpServer, type HttpApp } from '../kernel/http/server.js';
import type { Running } from '../kernel/lifecycle.js';
import type { Logger } from '../kernel/logger.js';
import { createMetricsRegistry } from '../kernel/metrics.js';
import { meteredDatabase } from '../kernel/db/metered.js';
import { parseServiceUrl } from '../kernel/address.js';
import { AccrualClient } from './accrual-client.js';
import { registerLoyaltyRoutes } from './api.js';
import { registerWebApp } from './web.js';
import type { LoyaltyConfig } from './config.js';
import { SCHEMA, migrations } from './migrations.js';
import { AccrualPoller } from './poller.js';
import { LoyaltyService } from './service.js';
import { LoyaltyStore } from './store.js';

export interface LoyaltyRunning extends Running {
  url: string;
  app: HttpApp;
  store: LoyaltyStore;
}

export interface LoyaltyDeps {
  logger: Logger;
  /** A database shared with other services of this process (the zero-set-up stack); closed by its owner. */
  db?: Database;
  metrics?: Registry;
}

export async function startLoyalty(config: LoyaltyConfig, deps: LoyaltyDeps): Promise<LoyaltyRunning> {
  const ownsDb = deps.db === undefined;
  const db =
    deps.db ??
    (await openDatabase({ url: config.databaseUri, embeddedDir: config.dataDir, poolSize: config.databasePoolSize, applicationName: 'gophermart' }));
  try {
    const applied = await migrate(db, SCHEMA, migrations);
    if (applied.length > 0) deps.logger.info({ applied }, 'migrations applied');
    const secret = config.jwtSecret ?? (await loadOrCreateSecret(db, SCHEMA));
    const tokens = createTokenService(secret, config.tokenTtlMs, 'gophermart');
    const metrics = deps.metrics ?? createMetricsRegistry('gophermart');
    const store = new LoyaltyStore(meteredDatabase(db, metrics, config.databasePoolSize));
    const app = await createHttpServer({
      logger: deps.logger,
      title: 'Gophermart loyalty service',
      description: 'Accounts, order numbers, points balance and withdrawals (SPEC §1).',
      metrics,
      readiness: async () => {
        await db.query('select 1');
      },
    });
    const accrual = new AccrualClient(parseServiceUrl(config.accrualAddress), {
      timeoutMs: config.accrualTimeoutMs,
      connections: Math.max(1, config.pollConcurrency),
    });
    const poller = new AccrualPoller(
      {
        concurrency: config.pollConcurrency,
        intervalMs: config.pollIntervalMs,
        backoffBaseMs: config.pollBackoffBaseMs,
        backoffMaxMs: config.pollBackoffMaxMs,
        timeoutMs: config.accrualTimeoutMs,
        retries: config.accrualRetries,
        leaseMs: config.pollLeaseMs,
      },
      { store, client: accrual, logger: deps.logger, metrics },
    );
    registerLoyaltyRoutes(app, new LoyaltyService(store, { orderAccepted: () => poller.wake() }), tokens);
    await registerWebApp(app, { logger: deps.logger, orchestratorUrl: parseServiceUrl(config.orchestratorAddress) });
    const url = await listen(app, config.address);
    poller.start();
    deps.logger.info({ url, database: db.kind, accrual: parseServiceUrl(config.accrualAddress), pollConcurrency: config.pollConcurrency }, 'gophermart listening');
    return {
      url,
      app,
      store,
      async stop() {
        // The poller hands its claims back through the database, so it stops before the database closes.
        await poller.stop();
        await accrual.close();
        await app.close();
        if (ownsDb) await db.close();
      },
    };
  } catch (err) {
    if (ownsDb) await db.close().catch(() => undefined);
    throw err;
  }
}
