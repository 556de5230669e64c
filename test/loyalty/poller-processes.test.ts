import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeAccrual, orderNumber, processed, type FakeReply } from '../support/fake-accrual.js';
import { call } from '../support/http.js';
import { eventually, inspect, newUser, upload } from '../support/poller.js';
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
    ACCRUAL_TIMEOUT: '500ms',
    POLL_LEASE: '1500ms',
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
    for (const n of numbers) assert.equal(fake.seen(n).length, 1, `order ${n} asked ${fake.seen(n).length} times`);
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
        const [row] = await look.sql<{ n: number }[]>`select count(*)::int as n from gophermart.orders where status = 'PROCESSED' and number in ${look.sql(numbers)}`;
        return (row?.n ?? 0) >= 6 ? true : undefined;
      },
      10_000,
      5,
    );
    const killedAt = Date.now();
    await first.stop('SIGKILL');
    const [left] = await look.sql<{ n: number; claimed: number }[]>`
      select count(*)::int as n, count(claimed_until)::int as claimed from gophermart.orders where status <> 'PROCESSED' and number in ${look.sql(numbers)}`;
    assert.ok((left?.n ?? 0) > 0, 'the kill came too late: nothing left to resume');

    const second = await startBin('gophermart', env());
    procs.push(second);
    for (const n of numbers) await eventually(`${n} PROCESSED`, () => look.statusIs(n, 'PROCESSED'), 15_000);
    assert.equal(await look.balance(user.login), 40 * 250);
    // Orders in flight at the kill were answered PROCESSED to a dead process and asked again after
    // their lease ran out: PROCESSED seen twice, credited once (the balance above).
    const twice = numbers.filter((n) => fake.seen(n).length > 1);
    if ((left?.claimed ?? 0) > 0) assert.ok(twice.length > 0, 'claimed orders should have been asked again');
    t.diagnostic(`${left?.n ?? 0} orders unfinished at the kill (${left?.claimed ?? 0} claimed); ${twice.length} asked twice`);
    for (const n of twice) {
      const [, again] = fake.seen(n);
      assert.ok((again?.at ?? 0) >= killedAt, 'asked again only after the crash');
    }
    await second.stop();
  });
});
