import postgres from 'postgres';
import { parseInt8, type Database, type Queryable, type Row } from './database.js';

export interface PostgresOptions {
  url: string;
  poolSize?: number;
  applicationName?: string;
}

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
  const client = (max: number): Sql =>
    postgres(options.url, {
      max,
      onnotice: () => undefined,
      connection: { application_name: options.applicationName ?? 'gophermart' },
      types: {
        int8: { to: 20, from: [20], serialize: (v: number) => String(v), parse: parseInt8 },
      },
      connect_timeout: 10,
    });
  const lanes: Lane[] = Array.from({ length: laneCount }, () => ({ sql: client(1), inFlight: 0 }));
  const transactions = client(transactionConnections);
  try {
    // one round trip proves the database is reachable; the other connections open on first use
    await (lanes[0] as Lane).sql.unsafe('select 1');
  } catch (err) {
    await Promise.all([...lanes.map((l) => l.sql.end({ timeout: 0 })), transactions.end({ timeout: 0 })]);
    throw err;
  }

  function leastBusy(): Lane {
    let best = lanes[0] as Lane;
    for (const lane of lanes) if (lane.inFlight < best.inFlight) best = lane;
    return best;
  }

  return {
    kind: 'postgres',
    async query<R extends Row>(text: string, params: readonly unknown[] = []): Promise<R[]> {
      const lane = leastBusy();
      lane.inFlight++;
      try {
        const rows = await lane.sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true });
        return rows as unknown as R[];
      } finally {
        lane.inFlight--;
      }
    },
    async exec(text: string): Promise<void> {
      await transactions.unsafe(text);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return (await transactions.begin((tx) => fn(queryable(tx)))) as T;
    },
    async close(): Promise<void> {
      await Promise.all([...lanes.map((l) => l.sql.end({ timeout: 5 })), transactions.end({ timeout: 5 })]);
    },
  };
}
