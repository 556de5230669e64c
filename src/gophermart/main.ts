import { parseServiceUrl } from '../kernel/address.js';
import { LoginThrottle } from '../kernel/auth/login-throttle.js';
import type { Database } from '../kernel/db/database.js';
import { channelPublisher, listenOnChannel, type ChannelListener } from '../kernel/db/listener.js';
import type { Logger } from '../kernel/logger.js';
import { loginLimits } from '../kernel/settings.js';
import { tokenServiceFor } from '../kernel/auth/tokens.js';
import { startService, type RunningService, type ServiceDeps } from '../kernel/service.js';
import { AccrualClient } from './accrual-client.js';
import { registerGophermartRoutes } from './api.js';
import type { GophermartConfig } from './config.js';
import { ACCRUAL_PAUSED_CHANNEL, SCHEMA, USER_CHANGED_CHANNEL, migrations } from './migrations.js';
import { AccrualPoller } from './poller.js';
import { UserReadModel } from './read-model.js';
import { GophermartService } from './service.js';
import { GophermartStore } from './store.js';
import { registerWebApp } from './web.js';

export type GophermartRunning = RunningService<{ store: GophermartStore; readModel: UserReadModel | undefined }>;
export type GophermartDeps = ServiceDeps;

export function startGophermart(config: GophermartConfig, deps: GophermartDeps): Promise<GophermartRunning> {
  return startService(config, deps, {
    name: 'gophermart',
    title: 'Gophermart loyalty service',
    description: 'Accounts, order numbers, points balance and withdrawals.',
    schema: SCHEMA,
    migrations,
    async build({ db, metrics, app, logger, startupStep }) {
      // every instance on PostgreSQL announces its users' changes, whether or not it keeps a read
      // model itself: other instances may
      const publisher = db.kind === 'postgres' ? channelPublisher(db, USER_CHANGED_CHANNEL) : undefined;
      let readModel: UserReadModel | undefined;
      const store = new GophermartStore(db, {
        userChanged(userId) {
          // here at once (read-your-writes), elsewhere once the notification arrives
          readModel?.invalidate(userId);
          void publisher?.publish(String(userId));
        },
      });
      const accrualUrl = parseServiceUrl(config.accrualAddress);
      const accrual = new AccrualClient(accrualUrl, { timeoutMs: config.accrualTimeoutMs, connections: Math.max(1, config.pollConcurrency) });
      // a 429's pause reaches the other instances' pollers at once, not at their next heartbeat
      const pausePublisher = db.kind === 'postgres' ? channelPublisher(db, ACCRUAL_PAUSED_CHANNEL) : undefined;
      const poller = new AccrualPoller(config, {
        store,
        client: accrual,
        logger,
        metrics,
        session: db.session,
        announcedPause: () => void pausePublisher?.publish('paused'),
      });
      const pauseListener =
        db.kind === 'postgres' && config.databaseUri && config.pollConcurrency > 0
          ? listenOnChannel(
              { url: config.databaseUri, channel: ACCRUAL_PAUSED_CHANNEL, applicationName: 'gophermart-listener', logger },
              { onNotify: () => void poller.pauseAnnounced(), onListening: () => undefined, onLost: () => undefined },
            )
          : undefined;
      const cache = startReadModel(config, db, store, logger);
      readModel = cache?.readModel;
      registerGophermartRoutes(
        app,
        new GophermartService(store, { orderAccepted: () => poller.wake() }, cache?.readModel),
        await startupStep(() => tokenServiceFor(db, SCHEMA, config, 'gophermart')),
        new LoginThrottle(db, SCHEMA, loginLimits(config)),
      );
      await registerWebApp(app, { logger, orchestratorUrl: parseServiceUrl(config.orchestratorAddress) });
      return {
        extras: { store, readModel: cache?.readModel },
        start: () => poller.start(),
        async stop() {
          // the poller hands its claims back through the database, so it stops before the database closes
          await poller.stop();
          await accrual.close();
          await cache?.listener.close();
          await pauseListener?.close();
        },
        describe: { accrual: accrualUrl, pollConcurrency: config.pollConcurrency, readCache: cache ? `${config.readCacheTtlMs}ms` : 'off' },
      };
    },
  });
}

/**
 * The in-memory read model, on PostgreSQL only: it needs the notifications of every instance's
 * writes. (The embedded database serves one process, and reads from it cost no round trip.) It
 * keeps nothing until LISTEN is in place and drops everything when that connection is lost.
 */
function startReadModel(
  config: GophermartConfig,
  db: Database,
  store: GophermartStore,
  logger: Logger,
): { readModel: UserReadModel; listener: ChannelListener } | undefined {
  if (config.readCacheTtlMs <= 0 || db.kind !== 'postgres' || !config.databaseUri) return undefined;
  const readModel = new UserReadModel((userId, maxOrders) => store.userSnapshot(userId, maxOrders), {
    ttlMs: config.readCacheTtlMs,
    maxUsers: 10_000,
    maxOrders: 50_000,
    maxOrdersPerUser: 500,
  });
  const listener = listenOnChannel(
    { url: config.databaseUri, channel: USER_CHANGED_CHANNEL, applicationName: 'gophermart-listener', logger },
    {
      onNotify(payload) {
        for (const part of payload.split(',')) {
          const userId = Number(part);
          if (Number.isSafeInteger(userId)) readModel.invalidate(userId);
        }
      },
      onListening: () => readModel.enable(),
      onLost: () => readModel.disable(),
    },
  );
  return { readModel, listener };
}
