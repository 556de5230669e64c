import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import postgres from 'postgres';
import type { Logger } from '../logger.js';
import { Availability, type AvailabilityOptions } from './availability.js';
import { parseInt8, type Database, type Queryable, type Row } from './database.js';
import { DatabaseUnavailable } from './unavailable.js';

export interface PostgresOptions {
  url: string;
  poolSize?: number;
  applicationName?: string;
  /** Where the guard reports the database going away and coming back (once per outage). */
  logger?: Pick<Logger, 'warn' | 'info'>;
  /** Overrides of the outage guard's timings (tests). */
  availability?: Pick<AvailabilityOptions, 'stallMs' | 'probeTimeoutMs' | 'probeIntervalMs'>;
}

/** Longest wait for a new connection (seconds): an unreachable host fails instead of hanging. */
export const CONNECT_TIMEOUT_S = 2;
/** Pause before a closed connection is opened again (seconds); the guard paces attempts during an outage. */
const RECONNECT_DELAY_S = 0.1;

// biome-ignore lint/suspicious/noExplicitAny: postgres.js types its custom type map loosely
type Sql = postgres.Sql<any>;

// biome-ignore lint/suspicious/noExplicitAny: as above
function queryable(sql: Sql | postgres.TransactionSql<any>): Queryable {
  return {
    async query<R extends Row>(text: string, params: readonly unknown[] = []): Promise<R[]> {
      const rows = await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true });
      return rows as unknown as R[];
    },
    async exec(text: string): Promise<void> {
      await sql.unsafe(text);
    },
  };
}

/** Longest wait for the TCP connect that tells a slow server from an unreachable one. */
const REACHABLE_TIMEOUT_MS = 500;

/**
 * A TCP connect to the server's address (no PostgreSQL work): the kernel of a live host answers
 * it however busy the server is; a cut network or a stopped server does not. Undefined when the
 * URL names no single TCP host (several hosts, a Unix socket).
 */
function reachability(url: string): (() => Promise<boolean>) | undefined {
  let host: string;
  let port: number;
  try {
    const parsed = new URL(url);
    host = parsed.hostname.replace(/^\[|\]$/g, '');
    port = Number(parsed.port || 5432);
    if (!host || host.includes(',') || parsed.searchParams.has('host')) return undefined;
  } catch {
    return undefined;
  }
  return () =>
    new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      const done = (yes: boolean): void => {
        clearTimeout(timer);
        socket.destroy();
        resolve(yes);
      };
      const timer = setTimeout(() => done(false), REACHABLE_TIMEOUT_MS);
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
}

/** One single-connection client and the statements it has in flight (pipelined). */
interface Lane {
  sql: Sql;
  inFlight: number;
}

/**
 * postgres.js's own pool keeps its busy list in an array that only compacts when every
 * connection is idle at once; under steady load each query scans an ever longer list (≈10 % of
 * a small request's CPU, measured). Single-connection clients never grow that list, so plain
 * statements go to the least busy of several such "lanes", pipelined, and transactions —
 * which hold their connection — get a small pool of their own so they never stall the lanes.
 */
export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const poolSize = Math.max(2, options.poolSize ?? 10);
  const transactionConnections = Math.max(1, Math.ceil(poolSize / 4));
  const laneCount = Math.max(1, poolSize - transactionConnections);
  // unique per pool, so other processes can tell whether this one is still connected (Database.session)
  const session = `${options.applicationName ?? 'gophermart'} ${randomUUID()}`;
  const client = (max: number): Sql =>
    postgres(options.url, {
      max,
      onnotice: () => undefined,
      connection: { application_name: session },
      types: {
        int8: { to: 20, from: [20], serialize: (v: number) => String(v), parse: parseInt8 },
      },
      connect_timeout: CONNECT_TIMEOUT_S,
      // the driver's default backoff grows to seconds over an outage and would hold recovery back
      backoff: () => RECONNECT_DELAY_S,
    });
  const lanes: Lane[] = Array.from({ length: laneCount }, () => ({ sql: client(1), inFlight: 0 }));
  let transactions = client(transactionConnections);
  // the guard's checks get a connection of their own, so they never queue behind stalled work
  let probe = client(1);
  const endAll = (timeout: number): Promise<unknown> =>
    Promise.all([...lanes.map((l) => l.sql.end({ timeout })), transactions.end({ timeout }), probe.end({ timeout })]);
  try {
    // one round trip proves the database is reachable (and opens the check's own connection:
    // a check must not pay a connection set-up); the other connections open on first use
    await Promise.all([(lanes[0] as Lane).sql.unsafe('select 1'), probe.unsafe('select 1')]);
  } catch (err) {
    await endAll(0);
    throw err;
  }
  /** New clients for old: statements on the old connections are rejected at once (their callers were already answered). */
  function replaceClients(): void {
    const old = [...lanes.map((l) => l.sql), transactions, probe];
    for (const lane of lanes) lane.sql = client(1);
    transactions = client(transactionConnections);
    probe = client(1);
    for (const sql of old) sql.end({ timeout: 0 }).catch(() => undefined);
  }
  const logger = options.logger;
  const guard = new Availability({
    ...options.availability,
    async ping() {
      await probe.unsafe('select 1');
    },
    reachable: reachability(options.url),
    dropConnections: replaceClients,
    onChange(event) {
      if (event.available) logger?.info({ outageMs: event.outageMs }, 'database available again');
      else logger?.warn({ err: event.cause }, 'database unavailable: answering 503 until it is back');
    },
  });

  function leastBusy(): Lane {
    let best = lanes[0] as Lane;
    for (const lane of lanes) if (lane.inFlight < best.inFlight) best = lane;
    return best;
  }

  return {
    kind: 'postgres',
    session,
    async query<R extends Row>(text: string, params: readonly unknown[] = []): Promise<R[]> {
      // the read path: the guard's bookkeeping inline (no closure per statement), and the same
      // await as before the guard (answering in a bare `then` changed how the lanes' statements
      // are batched into socket writes: ≈45 % more CPU per statement in the read benchmark)
      if (!guard.available) throw new DatabaseUnavailable();
      const lane = leastBusy();
      lane.inFlight++;
      const slot = guard.begin();
      try {
        const rows = await lane.sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true });
        return rows as unknown as R[];
      } catch (err) {
        throw guard.fault(err);
      } finally {
        lane.inFlight--;
        guard.end(slot);
      }
    },
    exec(text: string): Promise<void> {
      return guard.run(async () => {
        await transactions.unsafe(text);
      });
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return guard.run(async () => (await transactions.begin((tx) => fn(queryable(tx)))) as T);
    },
    async close(): Promise<void> {
      guard.close();
      await endAll(5);
    },
  };
}
