import { randomUUID } from 'node:crypto';
import { LoginThrottle } from '../../kernel/auth/login-throttle.js';
import { tokenServiceFor } from '../../kernel/auth/tokens.js';
import { startService, type RunningService, type ServiceDeps } from '../../kernel/service.js';
import { loginLimits } from '../../kernel/settings.js';
import { registerOrchestratorRoutes } from './api.js';
import type { OrchestratorConfig } from './config.js';
import { Coordinator } from './coordinator.js';
import { LeaseKeeper } from './lease-keeper.js';
import { MeteredOrchestratorStore, MeteredShardClient, createOrchestratorMetrics } from './metrics.js';
import { SCHEMA, migrations } from './migrations.js';
import { checkShardLayout } from './shard-layout.js';
import { Recovery } from './recovery.js';
import { OrchestratorService } from './service.js';
import type { OrchestratorStore } from './store.js';

export type OrchestratorRunning = RunningService<{ store: OrchestratorStore; coordinator: Coordinator; recovery: Recovery; instanceId: string }>;
export type OrchestratorDeps = ServiceDeps;

/** Shard i is `config.shards[i]`: wallet id % N lives there. */
export function startOrchestrator(config: OrchestratorConfig, deps: OrchestratorDeps): Promise<OrchestratorRunning> {
  if (config.shards.length === 0) throw new Error('no shards configured');
  return startService(config, deps, {
    name: 'orchestrator',
    title: 'Wallet ledger orchestrator',
    description: 'Users, wallets and transfers between wallets on N shards.',
    schema: SCHEMA,
    migrations,
    async build({ db, metrics, app, logger, startupStep }) {
      await startupStep(() => checkShardLayout(db, config.shards.length));
      const ledgerMetrics = createOrchestratorMetrics(metrics);
      // a fresh id per start: a restarted instance takes its old leases over like any other once they run out
      const instanceId = randomUUID();
      const store: OrchestratorStore = new MeteredOrchestratorStore(db, { owner: instanceId, ms: config.leaseMs }, ledgerMetrics);
      const leases = new LeaseKeeper(store, logger);
      await startupStep(() => leases.begin());
      const shards = new MeteredShardClient(
        config.shards,
        config.shardToken,
        config.confirmationLimitMs,
        logger,
        // state-changing calls share a shard's few batch requests; the connections serve the reads and wallet creations
        { connections: Math.min(64, Math.max(8, config.coordinatorConcurrency)) },
        ledgerMetrics,
      );
      const coordinator = new Coordinator(store, shards, logger, {
        concurrency: config.coordinatorConcurrency,
        confirmationLimitMs: config.confirmationLimitMs,
      });
      const recovery = new Recovery(store, coordinator, logger, config.recoveryIntervalMs, () => leases.mayTakeOver());
      registerOrchestratorRoutes(
        app,
        new OrchestratorService(store, shards, coordinator),
        await startupStep(() => tokenServiceFor(db, SCHEMA, config, 'orchestrator')),
        new LoginThrottle(db, SCHEMA, loginLimits(config)),
        config.adminToken,
      );
      return {
        extras: { store, coordinator, recovery, instanceId },
        start: () => {
          leases.start();
          recovery.start();
        },
        async stop() {
          await recovery.stop();
          await coordinator.stop();
          await leases.stop();
          await shards.close();
        },
        describe: { shards: config.shards.length, instance: instanceId },
      };
    },
  });
}
