import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Database, Queryable, Row } from './database.js';

/**
 * A Database that reports how busy it is. postgres.js keeps its pool's state to itself, so
 * usage is measured at this wrapper instead: every statement outside a transaction and every
 * open transaction holds one connection while it runs, so "in flight" beyond the pool size is
 * work queued for a connection. Statements inside a transaction run on that transaction's
 * connection and are not counted again. When services share one database (bin/stack) each
 * service wraps it, and each reports its own share of the same pool.
 */
export function meteredDatabase(db: Database, registry: Registry, poolSize: number): Database {
  const size = db.kind === 'embedded' ? 1 : poolSize;
  let inFlight = 0;
  new Gauge({
    name: 'db_pool_size',
    help: 'Connections the pool may open (1 for the embedded database)',
    registers: [registry],
    collect() {
      this.set(size);
    },
  });
  new Gauge({
    name: 'db_pool_in_use',
    help: 'Connections busy with a statement or an open transaction (measured in the Database wrapper)',
    registers: [registry],
    collect() {
      this.set(Math.min(inFlight, size));
    },
  });
  new Gauge({
    name: 'db_pool_waiting',
    help: 'Statements and transactions waiting for a free connection',
    registers: [registry],
    collect() {
      this.set(Math.max(0, inFlight - size));
    },
  });
  const operations = new Counter({
    name: 'db_operations_total',
    help: 'Statements (outside transactions) and transactions run, by kind and result',
    labelNames: ['kind', 'result'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'db_operation_duration_seconds',
    help: 'Time a statement or a whole transaction took, waiting for a connection included',
    labelNames: ['kind'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  // label children resolved once: this runs for every statement of every request
  type Kind = 'query' | 'exec' | 'transaction';
  const seriesOf = (kind: Kind) => ({
    ok: operations.labels({ kind, result: 'ok' }),
    error: operations.labels({ kind, result: 'error' }),
    time: duration.labels({ kind }),
  });
  const series: Record<Kind, ReturnType<typeof seriesOf>> = { query: seriesOf('query'), exec: seriesOf('exec'), transaction: seriesOf('transaction') };

  async function measured<T>(kind: Kind, run: () => Promise<T>): Promise<T> {
    const s = series[kind];
    inFlight++;
    const started = performance.now();
    try {
      const result = await run();
      s.ok.inc();
      return result;
    } catch (err) {
      s.error.inc();
      throw err;
    } finally {
      inFlight--;
      s.time.observe((performance.now() - started) / 1000);
    }
  }

  return {
    kind: db.kind,
    session: db.session,
    query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> {
      return measured('query', () => db.query<R>(sql, params));
    },
    exec(sql: string): Promise<void> {
      return measured('exec', () => db.exec(sql));
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return measured('transaction', () => db.transaction(fn));
    },
    close: () => db.close(),
  };
}
