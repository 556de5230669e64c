import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { call, signUp, uniqueLogin } from '../support/http.js';
import { orderNumber } from '../support/accrual.js';
import { postgresTarget, type GophermartTarget } from './targets.js';

let t: GophermartTarget;
before(async () => {
  t = await postgresTarget({ DATABASE_POOL_SIZE: '20' });
});
after(async () => {
  await t?.close();
});

test('the same number uploaded concurrently by two users: exactly one 202, the rest 200/409, never 500', async () => {
  const alice = await signUp(t.url, uniqueLogin('alice'));
  const bob = await signUp(t.url, uniqueLogin('bob'));
  for (let round = 0; round < 20; round++) {
    const n = orderNumber();
    const attempts = [alice, bob, alice, bob, alice, bob].map((token) =>
      call(t.url, 'POST', '/api/user/orders', { token, body: n, headers: { 'content-type': 'text/plain' } }).then((r) => ({ token, status: r.status })),
    );
    const results = await Promise.all(attempts);
    const accepted = results.filter((r) => r.status === 202);
    assert.equal(accepted.length, 1, JSON.stringify(results));
    const owner = accepted[0]!.token;
    for (const r of results) {
      if (r.status === 202) continue;
      assert.equal(r.status, r.token === owner ? 200 : 409, JSON.stringify(results));
    }
  }
});

test('40 concurrent withdrawals: exactly floor(balance / sum) succeed and the balance never goes negative', async () => {
  const token = await signUp(t.url, uniqueLogin('spender'));
  const n = orderNumber();
  await call(t.url, 'POST', '/api/user/orders', { token, body: n });
  assert.equal(await t.store.applyAccrualResult(n, 'PROCESSED', 10000), 'applied'); // 100.00
  const sum = 7;
  const results = await Promise.all(
    Array.from({ length: 40 }, () => call(t.url, 'POST', '/api/user/balance/withdraw', { token, body: { order: orderNumber(), sum } }).then((r) => r.status)),
  );
  const ok = results.filter((s) => s === 200).length;
  assert.equal(ok, Math.floor(100 / sum), JSON.stringify(results));
  assert.deepEqual(
    results.filter((s) => s !== 200 && s !== 402),
    [],
  );
  assert.deepEqual((await call(t.url, 'GET', '/api/user/balance', { token })).json, { current: 100 - ok * sum, withdrawn: ok * sum });
  const list = (await call(t.url, 'GET', '/api/user/withdrawals', { token })).json as unknown[];
  assert.equal(list.length, ok);
});

test('one withdrawal retried concurrently is charged once', async () => {
  const token = await signUp(t.url, uniqueLogin('retry'));
  const n = orderNumber();
  await call(t.url, 'POST', '/api/user/orders', { token, body: n });
  await t.store.applyAccrualResult(n, 'PROCESSED', 5000);
  const order = orderNumber();
  const results = await Promise.all(
    Array.from({ length: 10 }, () => call(t.url, 'POST', '/api/user/balance/withdraw', { token, body: { order, sum: 20 } }).then((r) => r.status)),
  );
  assert.deepEqual(results, Array(10).fill(200));
  assert.deepEqual((await call(t.url, 'GET', '/api/user/balance', { token })).json, { current: 30, withdrawn: 20 });
});

test('concurrent registrations of one login: one 200, the rest 409', async () => {
  const login = uniqueLogin('race');
  const statuses = await Promise.all(
    Array.from({ length: 8 }, () => call(t.url, 'POST', '/api/user/register', { body: { login, password: 'racing-password' } }).then((r) => r.status)),
  );
  assert.equal(statuses.filter((s) => s === 200).length, 1, JSON.stringify(statuses));
  assert.equal(statuses.filter((s) => s === 409).length, 7, JSON.stringify(statuses));
});
