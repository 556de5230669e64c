import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { withLuhnCheckDigit } from '../../src/kernel/luhn.js';
import { FakeAccrual, processed } from '../support/fake-accrual.js';
import { signUp } from '../support/http.js';
import { assertAlive, outageRounds, Recorder } from '../support/outage.js';
import { createPgCluster, type PgCluster } from '../support/pg-cluster.js';
import { startBin, type ServiceProcess } from '../support/process.js';

/**
 * bin/gophermart on a private PostgreSQL that is stopped twice under load (fast, then
 * immediate), ≈5 s each: nothing exits, every answer while it is away is the 503 within 2 s,
 * normal answers within 5 s of its return, and afterwards every acknowledged upload and
 * withdrawal is listed exactly once and the balance is accruals − withdrawals.
 */
const ACCRUAL_POINTS = 10;
const WORKERS = 8;
const USERS = 4;

let cluster: PgCluster;
let fake: FakeAccrual;
let gm: ServiceProcess;

before(async () => {
  cluster = await createPgCluster();
  await cluster.start();
  const url = await cluster.createDatabase('gophermart');
  fake = await FakeAccrual.start();
  fake.intercept = (number) => processed(number, ACCRUAL_POINTS);
  gm = await startBin('gophermart', {
    DATABASE_URI: url,
    ACCRUAL_SYSTEM_ADDRESS: fake.url,
    DATABASE_POOL_SIZE: '4',
    POLL_INTERVAL: '100ms',
    POLL_BACKOFF_BASE: '200ms',
    POLL_BACKOFF_MAX: '1s',
    ACCRUAL_TIMEOUT: '2s',
    POLL_LEASE: '4s',
    JWT_SECRET: 'outage-test-jwt-secret',
    LOG_LEVEL: 'warn',
  });
});

after(async () => {
  await gm?.stop('SIGKILL');
  await fake?.close();
  await cluster?.destroy();
});

let sequence = 0;
const nextOrder = (): string => withLuhnCheckDigit(`${7_700_000_000 + process.pid * 10_000 + sequence++}`);

test('gophermart: PostgreSQL stopped twice under load; nothing acknowledged is lost or doubled', { timeout: 90_000 }, async () => {
  const users = await Promise.all(Array.from({ length: USERS }, (_, i) => signUp(gm.url, `outage-user-${i}`)));
  const uploaded = users.map(() => new Set<string>());
  const withdrawn = users.map(() => new Map<string, number>());
  const recorder = new Recorder();
  const send = (method: string, path: string, token: string, body?: string, type = 'application/json') =>
    fetch(gm.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': type }) },
      body,
      signal: AbortSignal.timeout(10_000),
    });

  let running = true;
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; running; i++) {
      const u = (w + i) % USERS;
      const token = users[u] as string;
      let status: number;
      switch (i % 4) {
        case 0: {
          const number = nextOrder();
          ({ status } = await recorder.time('upload', () => send('POST', '/api/user/orders', token, number, 'text/plain')));
          if (status === 202) uploaded[u]?.add(number);
          break;
        }
        case 1: {
          const number = nextOrder();
          ({ status } = await recorder.time('withdraw', () => send('POST', '/api/user/balance/withdraw', token, JSON.stringify({ order: number, sum: 1.5 }))));
          if (status === 200) withdrawn[u]?.set(number, 150);
          break;
        }
        case 2:
          ({ status } = await recorder.time('balance', () => send('GET', '/api/user/balance', token)));
          break;
        default:
          ({ status } = await recorder.time('orders', () => send('GET', '/api/user/orders', token)));
      }
      // a bounded load: a refused request is not retried in a tight loop
      if (status === 503) await new Promise((r) => setTimeout(r, 20));
    }
  };
  const normal = async (): Promise<boolean> => {
    const res = await send('GET', '/api/user/balance', users[0] as string);
    await res.text();
    return res.status === 200;
  };
  const load = Array.from({ length: WORKERS }, (_, w) => worker(w));
  const figures = await outageRounds({
    cluster,
    services: [gm],
    normal,
    recorder,
    normalStatuses: [200, 202, 204, 402],
    stopLoad: async () => {
      running = false;
      await Promise.all(load);
    },
  });
  assertAlive([gm]);
  console.log(JSON.stringify({ service: 'gophermart', figures, requests: recorder.samples.length }));

  // nothing acknowledged lost or doubled; every order credited once (the poller resumed by itself)
  for (const [u, token] of users.entries()) {
    const deadline = Date.now() + 20_000;
    let orders: Array<{ number: string; status: string; accrual?: number }> = [];
    for (;;) {
      const res = await send('GET', '/api/user/orders', token);
      orders = res.status === 204 ? [] : ((await res.json()) as typeof orders);
      if (orders.every((o) => o.status === 'PROCESSED')) break;
      assert.ok(Date.now() < deadline, `orders not all PROCESSED after the outages: ${orders.filter((o) => o.status !== 'PROCESSED').length} left`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const listed = orders.map((o) => o.number);
    assert.equal(new Set(listed).size, listed.length, 'an order is listed twice');
    for (const number of uploaded[u] ?? []) assert.ok(listed.includes(number), `acknowledged order ${number} is not listed`);
    const wres = await send('GET', '/api/user/withdrawals', token);
    const withdrawals = wres.status === 204 ? [] : ((await wres.json()) as Array<{ order: string; sum: number }>);
    const wlisted = withdrawals.map((w) => w.order);
    assert.equal(new Set(wlisted).size, wlisted.length, 'a withdrawal is listed twice');
    for (const number of withdrawn[u]?.keys() ?? []) assert.ok(wlisted.includes(number), `acknowledged withdrawal ${number} is not listed`);
    const balance = (await (await send('GET', '/api/user/balance', token)).json()) as { current: number; withdrawn: number };
    const accrued = orders.reduce((sum, o) => sum + Math.round((o.accrual ?? 0) * 100), 0);
    const spent = withdrawals.reduce((sum, w) => sum + Math.round(w.sum * 100), 0);
    assert.equal(accrued, orders.length * ACCRUAL_POINTS * 100, 'every order credited exactly its accrual');
    assert.equal(Math.round(balance.withdrawn * 100), spent);
    assert.equal(Math.round(balance.current * 100), accrued - spent, 'balance = accruals − withdrawals');
  }
});
