import assert from 'node:assert/strict';
import { test } from 'node:test';
import postgres from 'postgres';
import { counterValue, getOrder, orderNumber, postOrder, postRule, waitFinal } from '../support/accrual.js';
import type { ServiceProcess } from '../support/process.js';
import { servicesOnFreshDatabase } from '../support/services.js';

// The background processor on real PostgreSQL: status progression, resumption after a crash,
// several instances on one database, graceful stop.
const services = servicesOnFreshDatabase('acc_proc', { RATE_LIMIT: '0' });
const accrual = (env: Record<string, string>): Promise<ServiceProcess> => services.start('accrual', env);

// How long each phase lasts, to the millisecond, is checked on an injected clock in
// processor.test.ts; here the real service shows the same progression over HTTP.
test('status progression REGISTERED → PROCESSING → PROCESSED, never sooner than PROCESSING_DELAY', { timeout: 20_000 }, async () => {
  const svc = await accrual({ PROCESSING_DELAY: '1200' });
  assert.equal((await postRule(svc.url, 'Progress', 10, 'pt')).status, 200);
  const number = orderNumber();
  const t0 = Date.now();
  assert.equal((await postOrder(svc.url, number, [{ description: 'Progress item', price: 1 }])).status, 202);
  const seen: string[] = [];
  let finalAt = 0;
  for (;;) {
    const r = await getOrder(svc.url, number);
    assert.equal(r.status, 200);
    const status = r.body?.status ?? '';
    if (seen.at(-1) !== status) seen.push(status);
    if (status === 'PROCESSED' || status === 'INVALID') {
      finalAt = Date.now();
      assert.equal(r.body?.accrual, 10);
      break;
    }
    assert.ok(Date.now() - t0 < 10_000, `stuck at ${status}`);
    await new Promise((res) => setTimeout(res, 40));
  }
  assert.deepEqual(seen, ['REGISTERED', 'PROCESSING', 'PROCESSED']);
  // due times are the database's clock, set after t0 was read: a loaded machine can only add
  const elapsed = finalAt - t0;
  assert.ok(elapsed >= 1200, `final after ${elapsed} ms`);
  assert.equal(await svc.stop('SIGTERM'), 0);
});

test('unfinished orders resume after SIGKILL and a restart; data survives', { timeout: 30_000 }, async () => {
  const first = await accrual({ PROCESSING_DELAY: '1500' });
  assert.equal((await postRule(first.url, 'Resume', 5, '%')).status, 200);
  const numbers = Array.from({ length: 5 }, () => orderNumber());
  for (const n of numbers) assert.equal((await postOrder(first.url, n, [{ description: 'Resume me', price: 100.1 }])).status, 202);
  // wait until the processor has started them, then crash mid-processing
  const deadline = Date.now() + 5000;
  while ((await getOrder(first.url, numbers[0] ?? '')).body?.status !== 'PROCESSING') {
    assert.ok(Date.now() < deadline, 'never reached PROCESSING');
    await new Promise((res) => setTimeout(res, 30));
  }
  assert.equal(await first.stop('SIGKILL'), null);

  const second = await accrual({ PROCESSING_DELAY: '1500' });
  for (const n of numbers) {
    // 5 % of 100.1 = 5.005 → 5.01
    assert.deepEqual(await waitFinal(second.url, n, 10_000), { order: n, status: 'PROCESSED', accrual: 5.01 });
  }
  assert.equal((await postRule(second.url, 'Resume', 1, 'pt')).status, 409, 'rules survive the restart');
  assert.equal((await postOrder(second.url, numbers[0] ?? '', [])).status, 409, 'orders survive the restart');
  assert.equal(await second.stop('SIGTERM'), 0);
});

test('two instances on one database finish every order exactly once', { timeout: 30_000 }, async () => {
  const [a, b] = await Promise.all([accrual({ PROCESSING_DELAY: '0' }), accrual({ PROCESSING_DELAY: '0' })]);
  assert.ok(a && b);
  assert.equal((await postRule(a.url, 'Twin', 1.5, 'pt')).status, 200);
  const before = (await counterValue(a.url, 'accrual_orders_finished_total')) + (await counterValue(b.url, 'accrual_orders_finished_total'));
  const numbers = Array.from({ length: 60 }, () => orderNumber());
  await Promise.all(
    numbers.map((n, i) =>
      postOrder(i % 2 === 0 ? a.url : b.url, n, [
        { description: 'Twin', price: 1 },
        { description: 'Twin 2', price: 1 },
      ]),
    ),
  );
  for (const [i, n] of numbers.entries()) {
    assert.deepEqual(await waitFinal(i % 2 === 0 ? b.url : a.url, n), { order: n, status: 'PROCESSED', accrual: 3 });
  }
  const afterCount = (await counterValue(a.url, 'accrual_orders_finished_total')) + (await counterValue(b.url, 'accrual_orders_finished_total'));
  assert.equal(afterCount - before, numbers.length, 'each order finished by exactly one instance');
  const [ca, cb] = await Promise.all([a.stop('SIGTERM'), b.stop('SIGTERM')]);
  assert.equal(ca, 0);
  assert.equal(cb, 0);
});

test('SIGTERM with orders in flight exits 0 without waiting for them and leaves them to be finished later', { timeout: 30_000 }, async () => {
  // 6 s: far longer than a stop takes on any machine; the next instance, with no delay of its
  // own, still waits out the 3 s REGISTERED phase these orders were given
  const svc = await accrual({ PROCESSING_DELAY: '6000' });
  const numbers = Array.from({ length: 20 }, () => orderNumber());
  await Promise.all(numbers.map((n) => postOrder(svc.url, n, [{ description: 'Twin', price: 1 }])));
  assert.equal(await svc.stop('SIGTERM'), 0);
  // the stop did not wait for the orders: none is final yet
  const sql = postgres(services.db.url, { max: 1, onnotice: () => undefined });
  try {
    const [row] = await sql<
      { n: number }[]
    >`select count(*)::int as n from accrual.orders where number in ${sql(numbers)} and status in ('PROCESSED', 'INVALID')`;
    assert.equal(row?.n, 0);
  } finally {
    await sql.end({ timeout: 1 });
  }
  const next = await accrual({ PROCESSING_DELAY: '0' });
  for (const n of numbers) assert.deepEqual(await waitFinal(next.url, n, 10_000), { order: n, status: 'PROCESSED', accrual: 1.5 });
  assert.equal(await next.stop('SIGTERM'), 0);
});
