import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { orderNumber } from '../support/accrual.js';
import { call } from '../support/http.js';
import { inspect, newUser, upload } from '../support/poller.js';
import { eventually } from '../support/wait.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { ROOT, startBin, type ServiceProcess } from '../support/process.js';

// The real thing: bin/accrual and bin/gophermart on one PostgreSQL database (own schemas each).
// Skipped only on a branch where bin/accrual does not exist yet.
const skip = existsSync(resolve(ROOT, 'bin/accrual')) ? false : 'bin/accrual is not in this tree';

describe('end to end: bin/gophermart polls the real bin/accrual', { skip }, () => {
  let db: FreshDatabase;
  let accrual: ServiceProcess;
  let gm: ServiceProcess;
  let look: ReturnType<typeof inspect>;

  before(async () => {
    db = await freshDatabase('gm_poll');
    accrual = await startBin('accrual', { DATABASE_URI: db.url, PROCESSING_DELAY: '400ms' });
    gm = await startBin('gophermart', { DATABASE_URI: db.url, ACCRUAL_SYSTEM_ADDRESS: accrual.url, POLL_BACKOFF_BASE: '200ms' });
    look = inspect(db.url);
  });
  after(async () => {
    await gm?.stop();
    await accrual?.stop();
    await look?.close();
    await db?.drop();
  });

  test('orders reach PROCESSED with the SPEC’s accruals, credited once; unknown orders stay NEW', async () => {
    const rules = [
      { match: 'X', reward: 5, reward_type: '%' },
      { match: 'Pringles', reward: 10, reward_type: '%' },
      { match: 'Coca-Cola', reward: 12.5, reward_type: 'pt' },
    ];
    for (const rule of rules) {
      const r = await call(accrual.url, 'POST', '/api/goods', { body: rule });
      assert.equal(r.status, 200, r.text);
    }
    const a = orderNumber();
    const b = orderNumber();
    const none = orderNumber();
    const ghost = orderNumber(); // never registered in the accrual service
    const register = async (order: string, goods: { description: string; price: number }[]): Promise<void> => {
      const r = await call(accrual.url, 'POST', '/api/orders', { body: { order, goods } });
      assert.equal(r.status, 202, r.text);
    };
    await register(a, [
      { description: 'Стиральная машинка LG', price: 47399.99 },
      { description: 'Телевизор X', price: 14599.5 },
    ]);
    await register(b, [
      { description: 'Чайник Tefal', price: 7000 },
      { description: 'Чипсы Pringles бекон', price: 147.5 },
      { description: 'Напиток Coca-Cola Zero 0.5л', price: 55 },
    ]);
    await register(none, [{ description: 'Хлеб', price: 40 }]);

    const user = await newUser(gm.url);
    for (const n of [a, b, none, ghost]) await upload(gm.url, user.token, n);
    for (const n of [a, b, none]) await eventually(`${n} PROCESSED`, () => look.statusIs(n, 'PROCESSED'), 15_000);

    const balance = await call(gm.url, 'GET', '/api/user/balance', { token: user.token });
    assert.deepEqual(balance.json, { current: 757.23, withdrawn: 0 });
    const orders = (await call(gm.url, 'GET', '/api/user/orders', { token: user.token })).json as { number: string; status: string; accrual?: number }[];
    const by = new Map(orders.map((o) => [o.number, o]));
    assert.deepEqual({ s: by.get(a)?.status, x: by.get(a)?.accrual }, { s: 'PROCESSED', x: 729.98 });
    assert.deepEqual({ s: by.get(b)?.status, x: by.get(b)?.accrual }, { s: 'PROCESSED', x: 27.25 });
    assert.equal(by.get(none)?.status, 'PROCESSED');
    assert.equal(by.get(none)?.accrual, undefined);
    assert.equal(by.get(ghost)?.status, 'NEW');
    const g = await look.order(ghost);
    assert.ok((g?.poll_attempts ?? 0) >= 1, 'the unknown order was asked about');

    // Registered late, the unknown order is picked up on a later round.
    await register(ghost, [{ description: 'Телевизор X', price: 100 }]);
    await eventually('ghost PROCESSED', () => look.statusIs(ghost, 'PROCESSED'), 15_000);
    const after = await call(gm.url, 'GET', '/api/user/balance', { token: user.token });
    assert.deepEqual(after.json, { current: 762.23, withdrawn: 0 });
  });

  test('both stop cleanly on SIGTERM', async () => {
    assert.equal(await gm.stop('SIGTERM'), 0);
    assert.equal(await accrual.stop('SIGTERM'), 0);
  });
});
