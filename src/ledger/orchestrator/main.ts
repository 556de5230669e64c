import type { Registry } from 'prom-client';
import { loadOrCreateSecret } from '../../kernel/auth/secret.js';
import { createTokenService } from '../../kernel/auth/tokens.js';
import type { Database } from '../../kernel/db/database.js';
import { migrate } from '../../kernel/db/migrate.js';
import { openDatabase } from '../../kernel/db/open.js';
import { listen } from '../../kernel/http/listen.js';
import { createHttpServer, type HttpApp } from '../../kernel/http/server.js';
import type { Running } from '../../kernel/lifecycle.js';
import type { Logger } from '../../kernel/logger.js';
import { createMetricsRegistry } from '../../kernel/metrics.js';
import { meteredDatabase } from '../../kernel/db/metered.js';
import { MeteredLedgerStore, MeteredShardClient, createLedgerMetrics } from './metrics.js';
import { registerLedgerRoutes } from './api.js';
import { DEV_SHARD_TOKEN, type OrchestratorConfig } from './config.js';
import { Coordinator } from './coordinator.js';
import { SCHEMA, migrations } from './migrations.js';
import { Recovery } from './recovery.js';
import { LedgerService } from './service.js';
import type { ShardClient } from './shard-client.js';
import type { LedgerStore } from './store.js';

export interface OrchestratorRunning extends Running {
  url: string;
  app: HttpApp;
  store: LedgerStore;
  coordinator: Coordinator;
  recovery: Recovery;
}

export interface OrchestratorDeps {
  logger: Logger;
  /** A database shared with other services of this process; closed by its owner. */
  db?: Database;
  metrics?: Registry;
}

/** `config.shards` must already be resolved (see resolveShards): shard i is the i-th address. */
export async function startOrchestrator(config: OrchestratorConfig, deps: OrchestratorDeps): Promise<OrchestratorRunning> {
  if (config.shards.length === 0) throw new Error('no shards configured');
  const ownsDb = deps.db === undefined;
  const db =
    deps.db ??
    (await openDatabase({ url: config.databaseUri, embeddedDir: config.dataDir, poolSize: config.databasePoolSize, applicationName: 'orchestrator' }));
  let shards: ShardClient | undefined;
  try {
    const applied = await migrate(db, SCHEMA, migrations);
    if (applied.length > 0) deps.logger.info({ applied }, 'migrations applied');
    const secret = config.jwtSecret ?? (await loadOrCreateSecret(db, SCHEMA));
    const tokens = createTokenService(secret, config.tokenTtlMs, 'orchestrator');
    if (config.shardToken === undefined) deps.logger.warn('SHARD_TOKEN is not set: using the built-in development token; set SHARD_TOKEN in production');
    const metrics = deps.metrics ?? createMetricsRegistry('orchestrator');
    const ledgerMetrics = createLedgerMetrics(metrics);
    const store: LedgerStore = new MeteredLedgerStore(meteredDatabase(db, metrics, config.databasePoolSize), ledgerMetrics);
    shards = new MeteredShardClient(config.shards, config.shardToken ?? DEV_SHARD_TOKEN, config.confirmationLimitMs, deps.logger, Math.max(8, config.coordinatorConcurrency), ledgerMetrics);
    const coordinator = new Coordinator(store, shards, deps.logger, { concurrency: config.coordinatorConcurrency });
    const recovery = new Recovery(store, shards, coordinator, deps.logger, config.recoveryIntervalMs);
    const app = await createHttpServer({
      logger: deps.logger,
      title: 'Wallet ledger orchestrator',
      description: 'Users, wallets and transfers between wallets on N shards (SPEC §3).',
      metrics,
      readiness: async () => {
        await db.query('select 1');
      },
    });
    registerLedgerRoutes(app, new LedgerService(store, shards, coordinator), tokens, config.adminToken);
    recovery.start();
    const url = await listen(app, config.address);
    deps.logger.info({ url, database: db.kind, shards: config.shards.length }, 'orchestrator listening');
    const client = shards;
    return {
      url,
      app,
      store,
      coordinator,
      recovery,
      async stop() {
        await app.close();
        await recovery.stop();
        await coordinator.stop();
        await client.close();
        if (ownsDb) await db.close();
      },
    };
  } catch (err) {
    await shards?.close();
    if (ownsDb) await db.close().catch(() => undefined);
    throw err;
  }
}
