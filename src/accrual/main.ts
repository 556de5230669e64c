import { startService, type RunningService, type ServiceDeps } from '../kernel/service.js';
import { registerAccrualRoutes } from './api.js';
import type { AccrualConfig } from './config.js';
import { createAccrualMetrics } from './metrics.js';
import { SCHEMA, migrations } from './migrations.js';
import { Processor, phases } from './processor.js';
import { FixedWindowLimiter } from './rate-limit.js';
import { AccrualService } from './service.js';
import { AccrualStore } from './store.js';

export type AccrualRunning = RunningService<{ store: AccrualStore; processor: Processor }>;
export type AccrualDeps = ServiceDeps;

export function startAccrual(config: AccrualConfig, deps: AccrualDeps): Promise<AccrualRunning> {
  return startService(config, deps, {
    name: 'accrual',
    title: 'Gophermart accrual service',
    description: 'Reward rules, registered orders and computed points.',
    schema: SCHEMA,
    // migrations only add: data registered before a restart is kept
    migrations,
    async build({ db, metrics, app, logger }) {
      const store = new AccrualStore(db);
      const processor = new Processor(store, {
        delayMs: config.processingDelayMs,
        workers: config.processorConcurrency,
        logger,
        metrics: createAccrualMetrics(metrics),
      });
      const service = new AccrualService(store, {
        firstStepMs: phases(config.processingDelayMs).registeredMs,
        invalidShare: config.invalidShare,
        onRegistered: () => processor.wake(),
      });
      registerAccrualRoutes(app, service, { limiter: new FixedWindowLimiter(config.rateLimit), errorShare: config.errorShare });
      return {
        extras: { store, processor },
        // unfinished orders from before a restart are due already: the processor picks them up first
        start: () => processor.start(),
        stop: () => processor.stop(),
        describe: {
          rateLimit: config.rateLimit,
          processingDelayMs: config.processingDelayMs,
          invalidShare: config.invalidShare,
          errorShare: config.errorShare,
        },
      };
    },
  });
}
