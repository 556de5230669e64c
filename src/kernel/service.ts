import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Database } from './db/database.js';
import { meteredDatabase } from './db/metered.js';
import { migrate, type Migration } from './db/migrate.js';
import { openDatabase } from './db/open.js';
import { isConnectionFault } from './db/unavailable.js';
import { listen } from './http/listen.js';
import type { HttpLimits } from './http/limits.js';
import { beginStopping, createHttpServer, type HttpApp } from './http/server.js';
import { startStandbyServer, type StandbyServer } from './http/standby-server.js';
import { sleep, type Running } from './lifecycle.js';
import type { Logger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';

export interface ServiceDeps {
  logger: Logger;
  /** A database shared with other services of this process (the zero-set-up stack); closed by its owner. */
  db?: Database;
  metrics?: Registry;
}

/** The settings every service has (see kernel/settings.ts). */
export interface BaseServiceConfig {
  address: string;
  databaseUri: string | undefined;
  dataDir: string;
  databasePoolSize: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  trustProxy: readonly string[];
}

/** What a service gets to build itself on: a migrated database, metrics and an HTTP app to add routes to. */
export interface ServiceContext {
  /** The database, metered (pool and statement metrics): what stores should use. */
  db: Database;
  metrics: Registry;
  app: HttpApp;
  logger: Logger;
  /**
   * Runs a start-up step that needs the database (a setting read or written, functions
   * installed), again every START_RETRY_MS while the database is unavailable: it may go away
   * between the migrations and the service's own steps, and a start that ended there would make
   * the process exit because of an outage.
   */
  startupStep<T>(step: () => Promise<T>): Promise<T>;
}

export interface BuiltService<E> {
  /** Service-specific handles for callers and tests (stores, workers). */
  extras: E;
  /** Runs once the server listens (background workers). */
  start?(): void;
  /** Stops background work and closes clients; runs after the HTTP server closed, before the database closes. */
  stop?(): Promise<void>;
  /** Fields for the "listening" log line. */
  describe?: Record<string, unknown>;
}

export interface ServiceBlueprint<E> {
  name: string;
  title: string;
  description: string;
  schema: string;
  migrations: readonly Migration[];
  build(ctx: ServiceContext): Promise<BuiltService<E>>;
}

export type RunningService<E> = Running & { url: string; app: HttpApp } & E;

/** How often a service waiting for PostgreSQL at start-up tries again. */
const START_RETRY_MS = 500;
/**
 * On stop, requests already being served get this long to finish; then their connections are
 * closed. A client still sending its body (slowly) would otherwise hold the stop until the
 * request timeout; nothing has been done for it yet, and a request being processed is cut off
 * only after its database work had seconds to end.
 */
const STOP_DRAIN_MS = 3000;

/** How long a stop goes on taking the requests already waiting (see takeWaitingRequests) at most. */
const STOP_TAKE_MS = 250;

/**
 * Lets the event loop accept the connections waiting in the listen backlog and read the
 * requests already sent on them, before the server closes: closing the listening socket resets
 * a connection the kernel accepted but the process did not yet, and Node closes a connection
 * whose request it has not read as idle. Either way a client that sent its request before the
 * stop (while the process was busy) would get a reset instead of an answer. Node takes one
 * waiting connection per turn of the event loop and reads its request in the next, so the
 * turns go on while they bring connections or requests, for STOP_TAKE_MS at most.
 */
async function takeWaitingRequests(server: Server): Promise<void> {
  let arrivals = 0;
  const arrived = (): void => {
    arrivals += 1;
  };
  server.on('connection', arrived).on('request', arrived);
  try {
    const until = performance.now() + STOP_TAKE_MS;
    for (let before = -1; before !== arrivals && performance.now() < until; ) {
      before = arrivals;
      for (let turn = 0; turn < 2; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    server.off('connection', arrived).off('request', arrived);
  }
}

/** The slow-client limits of a service's settings. */
function httpLimits(config: BaseServiceConfig): HttpLimits {
  return { headersTimeoutMs: config.headersTimeoutMs, requestTimeoutMs: config.requestTimeoutMs, keepAliveTimeoutMs: config.keepAliveTimeoutMs };
}

/**
 * The service's own database, opened and migrated. While PostgreSQL is unreachable (refused,
 * timed out, starting up) the process does not exit (SPEC: "a process never exits because of
 * it"): `retry` tries again (see whileUnreachable). Anything else (a missing database, a refused
 * login) ends the start.
 */
async function openOwnDatabase(
  config: BaseServiceConfig,
  deps: ServiceDeps,
  blueprint: ServiceBlueprint<object>,
  retry: ServiceContext['startupStep'],
): Promise<Database> {
  return retry(async () => {
    let db: Database | undefined;
    try {
      db = await openDatabase({
        url: config.databaseUri,
        embeddedDir: config.dataDir,
        poolSize: config.databasePoolSize,
        applicationName: blueprint.name,
        logger: deps.logger,
      });
      await migrateLogged(db, deps, blueprint);
      return db;
    } catch (err) {
      await db?.close().catch(() => undefined);
      throw err;
    }
  });
}

async function migrateLogged(db: Database, deps: ServiceDeps, blueprint: ServiceBlueprint<object>): Promise<void> {
  const applied = await migrate(db, blueprint.schema, blueprint.migrations);
  if (applied.length > 0) deps.logger.info({ applied, schema: blueprint.schema }, 'migrations applied');
}

/**
 * Runs a start-up step that needs PostgreSQL (opening and migrating the database, or a step of
 * the service's own: see ServiceContext.startupStep) again every START_RETRY_MS while it is
 * unreachable; anything else ends the start, and so does any fault on the embedded database. At
 * the first outage `standIn` is called, so that until the service listens its address is
 * answered as during an outage (503) rather than refusing connections, and `warning` is logged.
 */
function whileUnreachable(config: BaseServiceConfig, deps: ServiceDeps, standIn: () => Promise<void>, warning: string): ServiceContext['startupStep'] {
  let warned = false;
  return async (step) => {
    for (;;) {
      try {
        return await step();
      } catch (err) {
        if (config.databaseUri === undefined || !isConnectionFault(err)) throw err;
        await standIn();
        if (!warned) deps.logger.warn({ err }, warning);
        warned = true;
      }
      await sleep(START_RETRY_MS);
    }
  };
}

/**
 * The start-up every service shares: open (or share) the database, migrate its schema, create
 * metrics and the HTTP server, let the service add its routes and workers, listen. Stopping
 * closes the server first, then the service's own work, then a database it opened itself.
 */
export async function startService<E extends object>(config: BaseServiceConfig, deps: ServiceDeps, blueprint: ServiceBlueprint<E>): Promise<RunningService<E>> {
  const ownsDb = deps.db === undefined;
  // opened at the first outage of the start; the service listens on its socket (handOver)
  let standby: StandbyServer | undefined;
  const standIn = async (): Promise<void> => {
    standby ??= await startStandbyServer(config.address, httpLimits(config));
  };
  let db: Database;
  if (deps.db) db = deps.db;
  else {
    try {
      db = await openOwnDatabase(
        config,
        deps,
        blueprint,
        whileUnreachable(config, deps, standIn, 'PostgreSQL unreachable at start-up: answering 503 and trying again until it is back'),
      );
    } catch (err) {
      await standby?.close();
      throw err;
    }
    if (standby) deps.logger.info('PostgreSQL reachable: starting');
  }
  let built: BuiltService<E> | undefined;
  let app: HttpApp | undefined;
  try {
    if (!ownsDb) await migrateLogged(db, deps, blueprint);
    const metrics = deps.metrics ?? createMetricsRegistry(blueprint.name);
    const server = await createHttpServer({
      logger: deps.logger,
      title: blueprint.title,
      description: blueprint.description,
      metrics,
      limits: httpLimits(config),
      trustProxy: config.trustProxy,
      readiness: async () => {
        await db.query('select 1');
      },
    });
    app = server;
    built = await blueprint.build({
      db: meteredDatabase(db, metrics, config.databasePoolSize),
      metrics,
      app: server,
      logger: deps.logger,
      startupStep: whileUnreachable(config, deps, standIn, 'PostgreSQL went away during start-up: answering 503 and trying again until it is back'),
    });
    const url = await listen(server, config.address, standby?.handOver());
    standby = undefined;
    built.start?.();
    deps.logger.info({ url, database: db.kind, ...built.describe }, `${blueprint.name} listening`);
    const service = built;
    return {
      ...service.extras,
      url,
      app: server,
      async stop() {
        beginStopping(server);
        await takeWaitingRequests(server.server);
        const cutOff = setTimeout(() => server.server.closeAllConnections(), STOP_DRAIN_MS);
        await server.close();
        clearTimeout(cutOff);
        await service.stop?.();
        if (ownsDb) await db.close();
      },
    };
  } catch (err) {
    await standby?.close();
    await app?.close().catch(() => undefined);
    await built?.stop?.().catch(() => undefined);
    if (ownsDb) await db.close().catch(() => undefined);
    throw err;
  }
}
