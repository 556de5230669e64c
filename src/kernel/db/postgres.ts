import postgres from 'postgres';
import { parseInt8, type Database, type Queryable, type Row } from './database.js';

export interface PostgresOptions {
  url: string;
  poolSize?: number;
  applicationName?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- postgres.js types its custom type map loosely
type Sql = postgres.Sql<any>;

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

export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const sql: Sql = postgres(options.url, {
    max: options.poolSize ?? 10,
    onnotice: () => undefined,
    connection: { application_name: options.applicationName ?? 'gophermart' },
    types: {
      int8: { to: 20, from: [20], serialize: (v: number) => String(v), parse: parseInt8 },
    },
    connect_timeout: 10,
  });
  await sql.unsafe('select 1');
  const base = queryable(sql);
  return {
    kind: 'postgres',
    query: base.query,
    exec: base.exec,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return (await sql.begin((tx) => fn(queryable(tx)))) as T;
    },
    async close(): Promise<void> {
      await sql.end({ timeout: 5 });
    },
  };
}
