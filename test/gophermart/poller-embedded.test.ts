import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { orderNumber } from '../support/accrual.js';
import { FakeAccrual, processed, status } from '../support/fake-accrual.js';
import { call } from '../support/http.js';
import { newUser, upload } from '../support/poller.js';
import { eventually } from '../support/wait.js';
import { startBin, type ServiceProcess } from '../support/process.js';

// The zero-set-up run: the same poller SQL on the embedded database (PGlite).
describe('accrual poller on the embedded database', () => {
  let fake: FakeAccrual;
  let gm: ServiceProcess;
  before(async () => {
    fake = await FakeAccrual.start();
    // the embedded database can take half a minute to start on a loaded machine
    gm = await startBin('gophermart', { DATA_DIR: 'memory://', ACCRUAL_SYSTEM_ADDRESS: fake.url, POLL_BACKOFF_BASE: '100ms' }, [], 90_000);
  });
  after(async () => {
    await gm?.stop();
    await fake?.close();
  });

  test('PROCESSED credits once, INVALID is final, 204 stays NEW', async () => {
    const user = await newUser(gm.url);
    const [p, i, u] = [orderNumber(), orderNumber(), orderNumber()];
    fake.script(p, status(p, 'PROCESSING'), processed(p, 12.5));
    fake.script(i, status(i, 'INVALID'));
    for (const n of [p, i, u]) await upload(gm.url, user.token, n);
    const orders = await eventually(
      'final statuses',
      async () => {
        const list = (await call(gm.url, 'GET', '/api/user/orders', { token: user.token })).json as { number: string; status: string; accrual?: number }[];
        return list.find((o) => o.number === p)?.status === 'PROCESSED' && list.find((o) => o.number === i)?.status === 'INVALID' ? list : undefined;
      },
      10_000,
      50,
    );
    assert.equal(orders.find((o) => o.number === p)?.accrual, 12.5);
    assert.equal(orders.find((o) => o.number === u)?.status, 'NEW');
    await eventually('the unknown order asked again', async () => (fake.seen(u).length >= 2 ? true : undefined), 5000);
    assert.equal(
      ((await call(gm.url, 'GET', '/api/user/orders', { token: user.token })).json as { number: string; status: string }[]).find((o) => o.number === u)?.status,
      'NEW',
    );
    const balance = await call(gm.url, 'GET', '/api/user/balance', { token: user.token });
    assert.deepEqual(balance.json, { current: 12.5, withdrawn: 0 });
    assert.equal(await gm.stop('SIGTERM'), 0);
  });
});
