import { startService, type RunningService, type ServiceDeps } from '../../kernel/service.js';
import { registerShardRoutes } from './api.js';
import type { ShardConfig } from './config.js';
import { installShardFunctions } from './functions.js';
import { MeteredShardStore, createShardMetrics } from './metrics.js';
import { shardMigrations } from './migrations.js';
import type { ShardStore } from './store.js';

export type ShardRunning = RunningService<{ store: ShardStore }>;
export type ShardDeps = ServiceDeps;

export function startShard(config: ShardConfig, deps: ShardDeps): Promise<ShardRunning> {
  return startService(config, deps, {
    name: 'shard',
    title: 'Wallet ledger shard',
    description: 'Internal API of one ledger shard: wallets, holds, confirm/cancel, local transfers. Bearer SHARD_TOKEN only.',
    schema: config.schema,
    migrations: shardMigrations(config.schema),
    async build({ db, metrics, app, startupStep }) {
      await startupStep(() => installShardFunctions(db, config.schema));
      const store: ShardStore = new MeteredShardStore(db, config.schema, createShardMetrics(metrics));
      registerShardRoutes(app, store, config.shardToken);
      return { extras: { store }, describe: { schema: config.schema } };
    },
  });
}
