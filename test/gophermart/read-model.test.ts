import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import postgres from 'postgres';
import { loadConfig } from '../../src/kernel/config.js';
import { channelPublisher } from '../../src/kernel/db/listener.js';
import { createLogger } from '../../src/kernel/logger.js';
import { withLuhnCheckDigit } from '../../src/kernel/luhn.js';
import { gophermartSettings } from '../../src/gophermart/config.js';
import { startGophermart, type GophermartRunning } from '../../src/gophermart/main.js';
import { UserReadModel, type ReadModelOptions } from '../../src/gophermart/read-model.js';
import type { UserSnapshot } from '../../src/gophermart/store.js';
import { call, signUp, uniqueLogin } from '../support/http.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';

/** Polls `check` until it returns true or `ms` pass; returns the time it took. */
async function eventually(what: string, check: () => Promise<boolean> | boolean, ms = 10_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < ms) {
    if (await check()) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

describe('UserReadModel (unit)', () => {
  const snapshot = (balance: number, orders = 0): UserSnapshot => ({
    balance: { balance, withdrawn: 0 },
    orders: Array.from({ length: orders }, (_, i) => ({ number: String(i), status: 'NEW' as const, accrual: 0, uploaded_at: new Date(0) })),
  });
  function model(options: Partial<ReadModelOptions> = {}) {
    let clock = 0;
    const state = { balance: 100, orders: 0, loads: 0 };
    const pending: Array<() => void> = [];
    let hold = false;
    const rm = new UserReadModel(
      async () => {
        state.loads++;
        const answer = snapshot(state.balance, state.orders);
        if (hold) await new Promise<void>((r) => pending.push(r));
        return answer;
      },
      { ttlMs: 1000, maxUsers: 10, maxOrders: 100, maxOrdersPerUser: 50, now: () => clock, ...options },
    );
    return {
      rm,
      state,
      tick: (ms: number) => {
        clock += ms;
      },
      hold: (on: boolean) => {
        hold = on;
      },
      release: () => {
        for (const r of pending.splice(0)) r();
      },
    };
  }

  test('keeps nothing until enabled; then serves from memory until the user is invalidated', async () => {
    const m = model();
    assert.equal((await m.rm.balance(1))?.balance, 100);
    assert.equal((await m.rm.balance(1))?.balance, 100);
    assert.equal(m.state.loads, 2, 'disabled: every read loads');
    m.rm.enable();
    await m.rm.balance(1);
    m.state.balance = 200;
    assert.equal((await m.rm.balance(1))?.balance, 100, 'kept');
    assert.equal(m.state.loads, 3);
    m.rm.invalidate(1);
    assert.equal((await m.rm.balance(1))?.balance, 200, 'invalidated: loaded again');
  });

  test('a snapshot older than the TTL is loaded again', async () => {
    const m = model();
    m.rm.enable();
    await m.rm.balance(1);
    m.state.balance = 300;
    m.tick(999);
    assert.equal((await m.rm.balance(1))?.balance, 100);
    m.tick(1);
    assert.equal((await m.rm.balance(1))?.balance, 300);
  });

  test('a load under way when its user changes is answered but not kept; concurrent reads share one load', async () => {
    const m = model();
    m.rm.enable();
    m.hold(true);
    const first = m.rm.balance(1);
    const second = m.rm.balance(1);
    assert.equal(m.state.loads, 1, 'one load for both reads');
    m.rm.invalidate(1);
    m.state.balance = 400;
    const third = m.rm.balance(1);
    assert.equal(m.state.loads, 2, 'a read after the invalidation does not join the stale load');
    m.release();
    m.hold(false);
    assert.equal((await first)?.balance, 100);
    assert.equal((await second)?.balance, 100);
    assert.equal((await third)?.balance, 400);
    assert.equal((await m.rm.balance(1))?.balance, 400, 'the fresh load was kept, the stale one was not');
    assert.equal(m.state.loads, 2);
  });

  test('disable drops every snapshot and keeps loads under way from being kept', async () => {
    const m = model();
    m.rm.enable();
    await m.rm.balance(1);
    await m.rm.balance(2);
    assert.equal(m.rm.size, 2);
    m.hold(true);
    m.rm.invalidate(3);
    const pending = m.rm.balance(3);
    m.rm.disable();
    assert.equal(m.rm.size, 0);
    m.release();
    m.hold(false);
    await pending;
    assert.equal(m.rm.size, 0, 'the load that finished after disable was not kept');
    m.rm.enable();
    m.state.balance = 500;
    assert.equal((await m.rm.balance(1))?.balance, 500);
  });

  test('memory stays bounded: users, orders over all users, orders per user', async () => {
    const m = model({ maxUsers: 3, maxOrders: 10, maxOrdersPerUser: 5 });
    m.rm.enable();
    for (let id = 1; id <= 5; id++) await m.rm.balance(id);
    assert.equal(m.rm.size, 3, 'oldest users dropped');
    m.state.orders = 4;
    m.rm.disable();
    m.rm.enable();
    for (let id = 1; id <= 3; id++) await m.rm.orders(id);
    assert.equal(m.rm.size, 2, '3 × 4 orders is over 10: the oldest went');
  });

  test('a user with more orders than one snapshot holds is never kept', async () => {
    const loads: number[] = [];
    const rm = new UserReadModel(
      async (id) => {
        loads.push(id);
        return { balance: { balance: 1, withdrawn: 0 }, orders: undefined };
      },
      { ttlMs: 1000, maxUsers: 10, maxOrders: 100, maxOrdersPerUser: 5 },
    );
    rm.enable();
    assert.equal(await rm.orders(7), undefined);
    assert.equal((await rm.balance(7))?.balance, 1);
    assert.equal(rm.size, 0);
    assert.deepEqual(loads, [7, 7]);
  });
});

test('channelPublisher: one pg_notify in flight; keys changed meanwhile go out together in the next', async () => {
  const sent: string[] = [];
  const answers: Array<() => void> = [];
  const db = {
    query: async <R>(_sql: string, params?: readonly unknown[]): Promise<R[]> => {
      sent.push(String(params?.[1]));
      await new Promise<void>((r) => answers.push(r));
      return [];
    },
  };
  const publisher = channelPublisher(db, 'ch');
  let firstDone = false;
  const first = publisher.publish('1').then(() => {
    firstDone = true;
  });
  const second = [publisher.publish('2'), publisher.publish('3'), publisher.publish('2')];
  assert.deepEqual(sent, ['1'], 'the first key goes out at once, the others wait for it');
  answers.shift()?.();
  await first;
  assert.equal(firstDone, true);
  await eventually('second batch sent', () => sent.length === 2);
  assert.deepEqual(sent, ['1', '2,3']);
  answers.shift()?.();
  await Promise.all(second);
});

describe('read model over two instances on one PostgreSQL database', () => {
  let db: FreshDatabase;
  let sql: postgres.Sql;
  let a: GophermartRunning;
  let b: GophermartRunning;

  async function instance(): Promise<GophermartRunning> {
    const result = loadConfig({ name: 'gophermart', summary: '' }, gophermartSettings, [], {
      RUN_ADDRESS: '127.0.0.1:0',
      DATABASE_URI: db.url,
      ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9',
      POLL_CONCURRENCY: '0',
      JWT_SECRET: 'read-model-test-secret-0123456789abcdef',
      // long enough that nothing in these tests becomes visible by expiry: only invalidation counts
      READ_CACHE_TTL: '10m',
    });
    if (result.kind !== 'config') throw new Error('unexpected help');
    return startGophermart(result.config, { logger: createLogger('gophermart', 'silent') });
  }

  before(async () => {
    db = await freshDatabase('gm_readmodel');
    sql = postgres(db.url, { max: 2, onnotice: () => undefined });
    a = await instance();
    b = await instance();
    await eventually('both read models active', () => Boolean(a.readModel?.active && b.readModel?.active));
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await sql?.end();
    await db?.drop();
  });

  const newestUserId = async (): Promise<number> => {
    const [row] = await sql<{ id: number }[]>`select id from gophermart.users order by id desc limit 1`;
    if (!row) throw new Error('no user');
    return row.id;
  };
  const balanceOf = async (url: string, token: string) => ((await call(url, 'GET', '/api/user/balance', { token })).json as { current: number }).current;
  const ordersOf = async (url: string, token: string) => {
    const r = await call(url, 'GET', '/api/user/orders', { token });
    return r.status === 204 ? [] : (r.json as Array<{ number: string; status: string }>);
  };

  test('an instance reads its own writes at once: upload then list, withdraw then balance', async () => {
    const token = await signUp(a.url, uniqueLogin('ryw'), 'read-your-writes');
    assert.deepEqual(await ordersOf(a.url, token), []);
    assert.equal(await balanceOf(a.url, token), 0);
    assert.ok((a.readModel?.size ?? 0) > 0, 'the reads were kept');
    const first = withLuhnCheckDigit(`31${String(0).padStart(8, '0')}`);
    for (let i = 0; i < 5; i++) {
      const number = withLuhnCheckDigit(`31${String(i).padStart(8, '0')}`);
      assert.equal((await call(a.url, 'POST', '/api/user/orders', { token, body: number, headers: { 'content-type': 'text/plain' } })).status, 202);
      const listed = await ordersOf(a.url, token);
      assert.equal(listed.at(-1)?.number, number, 'the upload is listed by the very next read');
      assert.equal(listed.length, i + 1);
    }
    // the poller's write goes through the same store: seen by the very next read too
    assert.equal(await a.store.applyAccrualResult(first, 'PROCESSED', 10000), 'applied');
    assert.equal(await balanceOf(a.url, token), 100);
    const w = await call(a.url, 'POST', '/api/user/balance/withdraw', { token, body: { order: withLuhnCheckDigit('4100000000'), sum: 25 } });
    assert.equal(w.status, 200);
    assert.equal(await balanceOf(a.url, token), 75, 'the withdrawal is in the very next read');
  });

  test("another instance's writes, the poller's included, reach a kept snapshot through notifications", async () => {
    const token = await signUp(a.url, uniqueLogin('cross'), 'cross-instance');
    assert.deepEqual(await ordersOf(b.url, token), []);
    assert.equal(await balanceOf(b.url, token), 0);
    const number = withLuhnCheckDigit('5200000000');
    assert.equal((await call(a.url, 'POST', '/api/user/orders', { token, body: number, headers: { 'content-type': 'text/plain' } })).status, 202);
    const seenMs = await eventually('upload on A listed by B', async () => (await ordersOf(b.url, token)).length === 1, 5000);
    // what A's poller does when the accrual service answers: status and credit in one statement
    assert.equal(await a.store.applyAccrualResult(number, 'PROCESSED', 4250), 'applied');
    await eventually('credit listed by B', async () => (await ordersOf(b.url, token))[0]?.status === 'PROCESSED', 5000);
    assert.equal(await balanceOf(b.url, token), 42.5, 'balance and orders come from one snapshot');
    assert.ok(seenMs < 5000);
  });

  test('a lost notification connection drops the cache; it comes back once LISTEN is in place again', async () => {
    const token = await signUp(a.url, uniqueLogin('lost'), 'lost-listener');
    const id = await newestUserId();
    assert.equal(await balanceOf(b.url, token), 0);
    // a change made by hand announces nothing: the kept snapshot stays as it was (READ_CACHE_TTL bounds it)
    await sql`update gophermart.users set balance = 700 where id = ${id}`;
    assert.equal(await balanceOf(b.url, token), 0, 'served from memory');
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'gophermart-listener' and datname = current_database()`;
    await eventually('B reads the database once its listener is gone', async () => (await balanceOf(b.url, token)) === 7);
    await eventually('both read models active again', () => Boolean(a.readModel?.active && b.readModel?.active));
    assert.equal(await balanceOf(b.url, token), 7);
    const number = withLuhnCheckDigit('6300000000');
    assert.equal((await call(a.url, 'POST', '/api/user/orders', { token, body: number, headers: { 'content-type': 'text/plain' } })).status, 202);
    await eventually('notifications delivered again', async () => (await ordersOf(b.url, token)).length === 1, 5000);
  });
});
