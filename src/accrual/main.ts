import type { Registry } from 'prom-client';
import type { Database } from '../kernel/db/database.js';
import { migrate } from '../kernel/db/migrate.js';
import { openDatabase } from '../kernel/db/open.js';
import { listen } from '../kernel/http/listen.js';
import { createHttpServer, type HttpApp } from '../kernel/http/server.js';
import type { Running } from '../kernel/lifecycle.js';
import type { Logger } from '../kernel/logger.js';
import { createMetricsRegistry } from '../kernel/metrics.js';
import { meteredDatabase } from '../kernel/db/metered.js';
import { registerAccrualRoutes } from './api.js';
import type { AccrualConfig } from './config.js';
import { SCHEMA, migrations } from './migrations.js';
import { Processor, phases } from './processor.js';
import { FixedWindowLimiter } from './rate-limit.js';
import { AccrualService } from './service.js';
import { AccrualStore } from './store.js';

export interface AccrualRunning extends Running {
  url: string;
  app: HttpApp;
  store: AccrualStore;
  processor: Processor;
}

export interface AccrualDeps {
  logger: Logger;
  /** A database shared with other services of this process (the zero-set-up stack); closed by its owner. */
  db?: Database;
  metrics?: Registry;
}

export async function startAccrual(config: AccrualConfig, deps: AccrualDeps): Promise<AccrualRunning> {
  const ownsDb = deps.db === undefined;
  const db =
    deps.db ??
    (await openDatabase({ url: config.databaseUri, embeddedDir: config.dataDir, poolSize: config.databasePoolSize, applicationName: 'accrual' }));
  let processor: Processor | undefined;
  try {
    // migrations only add: data registered before a restart is kept
    const applied = await migrate(db, SCHEMA, migrations);
    if (applied.length > 0) deps.logger.info({ applied }, 'migrations applied');
    const metrics = deps.metrics ?? createMetricsRegistry('accrual');
    const store = new AccrualStore(meteredDatabase(db, metrics, config.databasePoolSize));
    const running = new Processor(store, {
      delayMs: config.processingDelayMs,
      workers: config.processorConcurrency,
      logger: deps.logger,
      metrics,
    });
    processor = running;
    const service = new AccrualService(store, {
      firstStepMs: phases(config.processingDelayMs).registeredMs,
      invalidShare: config.invalidShare,
      onRegistered: () => running.wake(),
    });
    const app = await createHttpServer({
      logger: deps.logger,
      title: 'Gophermart accrual service',
      description: 'Reward rules, registered orders and computed points (SPEC §2).',
      metrics,
      readiness: async () => {
        await db.query('select 1');
      },
    });
    registerAccrualRoutes(app, service, { limiter: new FixedWindowLimiter(config.rateLimit), errorShare: config.errorShare });
    // unfinished orders from before a restart are due already: the processor picks them up first
    running.start();
    const url = await listen(app, config.address);
    deps.logger.info(
      { url, database: db.kind, rateLimit: config.rateLimit, processingDelayMs: config.processingDelayMs, invalidShare: config.invalidShare, errorShare: config.errorShare },
      'accrual listening',
    );
    return {
      url,
      app,
      store,
      processor: running,
      async stop() {
        await app.close();
        await running.stop();
        if (ownsDb) await db.close();
      },
    };
  } catch (err) {
    await processor?.stop().catch(() => undefined);
    if (ownsDb) await db.close().catch(() => undefined);
    throw err;
  }
}
