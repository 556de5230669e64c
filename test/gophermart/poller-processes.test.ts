import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { orderNumber } from '../support/accrual.js';
import { FakeAccrual, processed, type FakeReply } from '../support/fake-accrual.js';
import { call } from '../support/http.js';
import { inspect, newUser, upload } from '../support/poller.js';
import { eventually } from '../support/wait.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { startBin, type ServiceProcess } from '../support/process.js';

const slowProcessed = (n: string, accrual: number, delayMs: number): FakeReply => ({ ...(processed(n, accrual) as object), delayMs }) as FakeReply;

describe('accrual poller: several processes, crashes', () => {
  let db: FreshDatabase;
  let fake: FakeAccrual;
  let look: ReturnType<typeof inspect>;
  const procs: ServiceProcess[] = [];
  const env = (): Record<string, string> => ({
    DATABASE_URI: db.url,
    ACCRUAL_SYSTEM_ADDRESS: fake.url,
    // roomy enough that no answer times out on a loaded machine (that would be an extra question)
    ACCRUAL_TIMEOUT: '3s',
    POLL_LEASE: '5s',
    POLL_CONCURRENCY: '4',
  });

  before(async () => {
    db = await freshDatabase('gm_poll');
    fake = await FakeAccrual.start();
    look = inspect(db.url);
  });
  after(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    await look?.close();
    await fake?.close();
    await db?.drop();
  });

  test('two bin/gophermart on one database never poll one order at once and credit once', async () => {
    const [a, b] = await Promise.all([startBin('gophermart', env()), startBin('gophermart', env())]);
    if (!a || !b) throw new Error('start failed');
    procs.push(a, b);
    const user = await newUser(a.url);
    const numbers = Array.from({ length: 80 }, () => orderNumber());
    for (const n of numbers) fake.script(n, slowProcessed(n, 1.5, 20));
    await Promise.all(numbers.map((n, i) => upload(i % 2 ? b.url : a.url, user.token, n)));
    for (const n of numbers) await eventually(`${n} PROCESSED`, () => look.statusIs(n, 'PROCESSED'), 15_000);
    assert.equal(fake.maxConcurrentPerOrder, 1, 'an order was asked by two processes at once');
    // PROCESSED at the first question: nobody asked again (a retry after a timeout on a very loaded machine is the only excuse).
    assert.ok(fake.requests.length <= numbers.length + 4, `${fake.requests.length} requests for ${numbers.length} orders`);
    assert.equal(await look.balance(user.login), 80 * 150);
    // Both processes did part of the work.
    for (const p of [a, b]) {
      const m = await call(p.url, 'GET', '/metrics');
      assert.match(m.text, /gophermart_accrual_credits_total\{[^}]*\} [1-9]/, 'a process credited nothing');
    }
    await Promise.all([a.stop(), b.stop()]);
  });

  test('SIGKILL mid-round, restart: every order resumes, no double credit', async (t) => {
    const first = await startBin('gophermart', env());
    procs.push(first);
    const user = await newUser(first.url);
    const numbers = Array.from({ length: 40 }, () => orderNumber());
    for (const n of numbers) fake.script(n, slowProcessed(n, 2.5, 100));
    for (const n of numbers) await upload(first.url, user.token, n);
    await eventually(
      'a few processed',
      async () => {
        const [row] = await look.sql<
          { n: number }[]
        >`select count(*)::int as n from gophermart.orders where status = 'PROCESSED' and number in ${look.sql(numbers)}`;
        return (row?.n ?? 0) >= 6 ? true : undefined;
      },
      10_000,
      5,
    );
    await first.stop('SIGKILL');
    // A statement the dead process had already sent still runs to its commit on the server:
    // read what is unfinished only once its every connection is gone.
    await eventually(
      'the connections of the killed process closed',
      async () => {
        const [row] = await look.sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name like 'gophermart%'`;
        return row?.n === 0 ? true : undefined;
      },
      15_000,
    );
    const unfinished = new Set(
      (await look.sql<{ number: string }[]>`select number from gophermart.orders where status <> 'PROCESSED' and number in ${look.sql(numbers)}`).map(
        (r) => r.number,
      ),
    );
    assert.ok(unfinished.size > 0, 'the kill came too late: nothing left to resume');
    // Asked before the kill but never applied: the answer went to a dead process.
    const inFlight = numbers.filter((n) => unfinished.has(n) && fake.seen(n).length > 0);

    const second = await startBin('gophermart', env());
    procs.push(second);
    for (const n of numbers) await eventually(`${n} PROCESSED`, () => look.statusIs(n, 'PROCESSED'), 15_000);
    assert.equal(await look.balance(user.login), 40 * 250);
    // Orders in flight at the kill were answered PROCESSED to a dead process and asked again after
    // their lease ran out: PROCESSED seen twice, credited once (the balance above).
    for (const n of inFlight) assert.ok(fake.seen(n).length >= 2, `order ${n} in flight at the kill was not asked again`);
    t.diagnostic(`${unfinished.size} orders unfinished at the kill, ${inFlight.length} of them in flight`);
    await second.stop();
  });

  test('SIGKILL, restart: the orders the dead process had claimed are asked again at once, not when the lease ends', async () => {
    // a lease far longer than the test may wait: only the takeover can finish the orders in time
    const longLease = { ...env(), POLL_LEASE: '5m', ACCRUAL_TIMEOUT: '1m', POLL_CONCURRENCY: '8' };
    const first = await startBin('gophermart', longLease);
    procs.push(first);
    const user = await newUser(first.url);
    const numbers = Array.from({ length: 8 }, () => orderNumber());
    // the first questions are never answered: every order is in flight when the process dies
    for (const n of numbers) fake.script(n, 'hang', processed(n, 10));
    for (const n of numbers) await upload(first.url, user.token, n);
    await eventually('every order asked', async () => (numbers.every((n) => fake.seen(n).length > 0) ? true : undefined), 10_000);
    await first.stop('SIGKILL');
    const killedAt = Date.now();
    const second = await startBin('gophermart', longLease);
    procs.push(second);
    for (const n of numbers) await eventually(`${n} PROCESSED`, () => look.statusIs(n, 'PROCESSED'), 15_000);
    const tookMs = Date.now() - killedAt;
    assert.ok(tookMs < 20_000, `finished ${tookMs} ms after the kill (the lease is 5 min)`);
    assert.equal(await look.balance(user.login), numbers.length * 1000);
    await second.stop();
  });
});
