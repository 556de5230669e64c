// Run as its own process by test/kernel/postgres-driver.test.ts: on an unpatched postgres.js a
// scenario below throws from a setImmediate and the process exits 1 with a TypeError, which no
// try/catch here could stop. Prints one JSON line per scenario and exits 0 when all settle.
import { createServer } from 'node:net';
import postgres from 'postgres';
import { ADMIN_URL } from './postgres.js';
import { startTcpProxy } from './tcp-proxy.js';

const target = new URL(ADMIN_URL);
const proxy = await startTcpProxy(Number(target.port || 5432));
const url = new URL(ADMIN_URL);
url.host = `127.0.0.1:${proxy.port}`;

function codeOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : String(err);
}

/** A statement inside a transaction after its connection's socket closed (the write is buffered for a setImmediate). */
async function afterCloseInTransaction(): Promise<Record<string, unknown>> {
  let noticeClose: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    noticeClose = resolve;
  });
  const sql = postgres(url.toString(), { max: 1, connect_timeout: 5, onnotice: () => undefined, onclose: () => noticeClose() });
  let inside = 'not run';
  const outcome = await sql
    .begin(async (tx) => {
      await tx`select 1`;
      proxy.cut();
      await closed;
      try {
        await tx`select 2`;
        inside = 'answered';
      } catch (err) {
        inside = codeOf(err);
      }
    })
    .then(
      () => 'committed',
      (err: unknown) => codeOf(err),
    );
  // the same client must work again once the database is reachable
  const [row] = await sql`select 3 as n`;
  await sql.end({ timeout: 1 });
  return { scenario: 'statement in a transaction after its socket closed', inside, outcome, afterwards: row?.n };
}

/**
 * A statement written in the same loop turn as its connection's reset: the close clears the
 * pending setImmediate but (unpatched) leaves its handle set, so that connection never flushes
 * a write again, not even the start-up message of its next connection, and the statement is
 * never settled.
 */
async function resetWithWritePending(): Promise<Record<string, unknown>> {
  const sql = postgres(url.toString(), { max: 1, connect_timeout: 2, onnotice: () => undefined });
  let late: Promise<string> = Promise.resolve('not sent');
  const outcome = await sql
    .begin(async (tx) => {
      await tx`select 1`;
      const slow = tx`select pg_sleep(1)`;
      setTimeout(() => proxy.cut({ reset: true }), 100);
      await slow.catch(() => {
        // the reset's error reached us; the socket closes later in this same loop turn
        late = new Promise((resolve) => {
          setImmediate(() => {
            tx`select 4`.then(
              () => resolve('answered'),
              (err: unknown) => resolve(codeOf(err)),
            );
          });
        });
      });
    })
    .then(
      () => 'committed',
      (err: unknown) => codeOf(err),
    );
  const settled = await Promise.race([late, new Promise((resolve) => setTimeout(() => resolve('never settled'), 3000))]);
  const started = performance.now();
  const again = await Promise.race([
    sql`select 3 as n`.then(
      (rows) => rows[0]?.n,
      (err: unknown) => codeOf(err),
    ),
    new Promise((resolve) => setTimeout(() => resolve('no answer in 6 s'), 6000)),
  ]);
  await sql.end({ timeout: 1 });
  return { scenario: 'reset with a write pending', outcome, late: settled, again, ms: Math.round(performance.now() - started) };
}

/** A port nothing listens on: connections to it are refused, as to a stopped PostgreSQL. */
async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * end() called while a connection's first attempt is still to be refused (a stopped database):
 * the refusal settles its statement, after which (unpatched) the connection never reported
 * itself ended and end() waited for its whole timeout, holding a service's stop for seconds.
 */
async function endWhileConnectRefused(): Promise<Record<string, unknown>> {
  const sql = postgres(`postgres://postgres@127.0.0.1:${await refusingPort()}/postgres`, { max: 1, connect_timeout: 2, onnotice: () => undefined });
  const statement = sql`select 1`.then(
    () => 'answered',
    (err: unknown) => codeOf(err),
  );
  const started = performance.now();
  await sql.end({ timeout: 5 });
  return { scenario: 'end while the connect is refused', statement: await statement, ms: Math.round(performance.now() - started) };
}

for (const run of [afterCloseInTransaction, resetWithWritePending, endWhileConnectRefused]) {
  console.log(JSON.stringify(await run()));
}
await proxy.close();
