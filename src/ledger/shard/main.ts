import type { Registry } from 'prom-client';
import type { Database } from '../../kernel/db/database.js';
import { migrate } from '../../kernel/db/migrate.js';
import { openDatabase } from '../../kernel/db/open.js';
import { listen } from '../../kernel/http/listen.js';
import { createHttpServer, type HttpApp } from '../../kernel/http/server.js';
import type { Running } from '../../kernel/lifecycle.js';
import type { Logger } from '../../kernel/logger.js';
import { createMetricsRegistry } from '../../kernel/metrics.js';
import { meteredDatabase } from '../../kernel/db/metered.js';
import { MeteredShardStore } from './metrics.js';
import { registerShardRoutes } from './api.js';
import { DEV_SHARD_TOKEN, type ShardConfig } from './config.js';
import { shardMigrations } from './migrations.js';
import { ShardStore } from './store.js';

export interface ShardRunning extends Running {
  url: string;
  app: HttpApp;
  store: ShardStore;
}

export interface ShardDeps {
  logger: Logger;
  /** A database shared with other services of this process; closed by its owner. */
  db?: Database;
  metrics?: Registry;
}

export async function startShard(config: ShardConfig, deps: ShardDeps): Promise<ShardRunning> {
  const ownsDb = deps.db === undefined;
  const db =
    deps.db ??
    (await openDatabase({ url: config.databaseUri, embeddedDir: config.dataDir, poolSize: config.databasePoolSize, applicationName: `shard:${config.schema}` }));
  try {
    const applied = await migrate(db, config.schema, shardMigrations(config.schema));
    if (applied.length > 0) deps.logger.info({ applied, schema: config.schema }, 'migrations applied');
    if (config.shardToken === undefined) deps.logger.warn('SHARD_TOKEN is not set: using the built-in development token; set SHARD_TOKEN in production');
    const metrics = deps.metrics ?? createMetricsRegistry('shard');
    const store: ShardStore = new MeteredShardStore(meteredDatabase(db, metrics, config.databasePoolSize), config.schema, metrics);
    const app = await createHttpServer({
      logger: deps.logger,
      title: 'Wallet ledger shard',
      description: 'Internal API of one ledger shard (SPEC §3): wallets, holds, confirm/cancel, local transfers. Bearer SHARD_TOKEN only.',
      metrics,
      readiness: async () => {
        await db.query('select 1');
      },
    });
    registerShardRoutes(app, store, config.shardToken ?? DEV_SHARD_TOKEN);
    const url = await listen(app, config.address);
    deps.logger.info({ url, database: db.kind, schema: config.schema }, 'shard listening');
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
