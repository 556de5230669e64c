import type { Registry } from 'prom-client';
import { parseServiceUrl } from '../kernel/address.js';
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
import { registerLoyaltyRoutes } from './api.js';
import { registerWebApp } from './web.js';
import type { LoyaltyConfig } from './config.js';
import { SCHEMA, migrations } from './migrations.js';
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
    const store = new LoyaltyStore(db);
    const metrics = deps.metrics ?? createMetricsRegistry('gophermart');
    const app = await createHttpServer({
      logger: deps.logger,
      title: 'Gophermart loyalty service',
      description: 'Accounts, order numbers, points balance and withdrawals (SPEC §1).',
      metrics,
      readiness: async () => {
        await db.query('select 1');
      },
    });
    registerLoyaltyRoutes(app, new LoyaltyService(store), tokens);
    await registerWebApp(app, { logger: deps.logger, orchestratorUrl: parseServiceUrl(config.orchestratorAddress) });
    const url = await listen(app, config.address);
    deps.logger.info({ url, database: db.kind }, 'gophermart listening');
    return {
      url,
      app,
      store,
      async stop() {
        await app.close();
        if (ownsDb) await db.close();
      },
    };
  } catch (err) {
    if (ownsDb) await db.close().catch(() => undefined);
    throw err;
  }
}
