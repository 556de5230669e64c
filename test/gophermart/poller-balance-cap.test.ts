/**
 * A balance never passes MAX_BALANCE_HUNDREDTHS: int8 is read as a JS number, so past 2^53
 * hundredths every balance read of that user would be a 500 for ever. A PROCESSED answer whose
 * credit would pass the cap leaves the order unfinished (asked again after the longest backoff)
 * and the balance readable and unchanged; one that fits is credited, and so is the refused one
 * once a withdrawal has made room.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SQLSTATE, sqlState } from '../../src/kernel/db/database.js';
import { openDatabase } from '../../src/kernel/db/open.js';
import { withLuhnCheckDigit } from '../../src/kernel/luhn.js';
import { MAX_BALANCE_HUNDREDTHS } from '../../src/kernel/money.js';
import { GophermartStore } from '../../src/gophermart/store.js';
import { orderNumber } from '../support/accrual.js';
import { processed } from '../support/fake-accrual.js';
import { call } from '../support/http.js';
import { newUser, startPollerRig, upload, type PollerRig } from '../support/poller.js';
import { eventually } from '../support/wait.js';

const BACKOFF_MAX_MS = 2000;
/** Room left under the cap: 5.00 points. */
const ROOM = 500;

describe('accrual poller: the largest balance', () => {
  let rig: PollerRig;

  before(async () => {
    rig = await startPollerRig({
      ACCRUAL_TIMEOUT: '2s',
      POLL_LEASE: '5s',
      POLL_BACKOFF_BASE: '200ms',
      POLL_BACKOFF_MAX: `${BACKOFF_MAX_MS}ms`,
      // balances are set with SQL behind the service's back: no copy may be kept between reads
      READ_CACHE_TTL: '0',
    });
  });
  after(async () => {
    await rig?.close();
  });

  async function balanceOf(token: string): Promise<{ current: number; withdrawn: number }> {
    const r = await call(rig.gm.url, 'GET', '/api/user/balance', { token });
    assert.equal(r.status, 200, `balance read: ${r.status} ${r.text}`);
    return r.json as { current: number; withdrawn: number };
  }

  test('a credit past the cap leaves the order unfinished and the balance readable; one that fits credits', async () => {
    const { fake, gm, look } = rig;
    const user = await newUser(gm.url);
    const start = MAX_BALANCE_HUNDREDTHS - ROOM;
    await look.sql`update gophermart.users set balance = ${start} where login = ${user.login}`;

    const over = orderNumber();
    fake.script(over, processed(over, (ROOM + 500) / 100));
    await upload(gm.url, user.token, over);
    // the answer applied one way or the other: made final, or rescheduled (one attempt counted)
    const settled = await eventually(
      'the first answer applied',
      async () => {
        const o = await look.order(over);
        return o && (o.status === 'PROCESSED' || o.poll_attempts > 0) ? o : undefined;
      },
      10_000,
    );
    assert.equal(settled.status, 'PROCESSING', 'the order was made final though its credit passes the largest balance');
    assert.equal(await look.balance(user.login), start);
    assert.deepEqual(await balanceOf(user.token), { current: start / 100, withdrawn: 0 });
    // asked again after the longest backoff
    await eventually('the refused order asked again', async () => (fake.seen(over).length >= 2 ? true : undefined), 15_000);
    const [firstAsk, secondAsk] = fake.seen(over);
    assert.ok((secondAsk?.at ?? 0) - (firstAsk?.at ?? 0) >= BACKOFF_MAX_MS - 100, 'asked again before the longest backoff');
    assert.match(gm.stdout(), /"level":50[^\n]*the credit would take the owner's balance past the largest balance/);

    const fits = orderNumber();
    fake.script(fits, processed(fits, ROOM / 100));
    await upload(gm.url, user.token, fits);
    await eventually('the fitting order PROCESSED', () => look.statusIs(fits, 'PROCESSED'), 10_000);
    assert.equal(await look.balance(user.login), MAX_BALANCE_HUNDREDTHS);
    assert.deepEqual(await balanceOf(user.token), { current: MAX_BALANCE_HUNDREDTHS / 100, withdrawn: 0 });
    assert.notEqual((await look.order(over))?.status, 'PROCESSED');

    // a withdrawal makes room: the refused order is credited at its next question
    const spend = withLuhnCheckDigit(`${Date.now()}${process.pid % 1000}`);
    const withdrawn = await call(gm.url, 'POST', '/api/user/balance/withdraw', { token: user.token, body: { order: spend, sum: (2 * ROOM) / 100 } });
    assert.equal(withdrawn.status, 200, withdrawn.text);
    await eventually('the refused order PROCESSED once there is room', () => look.statusIs(over, 'PROCESSED'), 10_000);
    assert.equal(await look.balance(user.login), MAX_BALANCE_HUNDREDTHS - 2 * ROOM + ROOM + 500);
  });

  test('store: the refused credit is its own outcome, and the CHECK refuses any write past the cap', async () => {
    const { gm, look, db } = rig;
    const user = await newUser(gm.url);
    await look.sql`update gophermart.users set balance = ${MAX_BALANCE_HUNDREDTHS - ROOM} where login = ${user.login}`;
    const database = await openDatabase({ url: db.url, embeddedDir: 'unused', poolSize: 2, applicationName: 'test' });
    try {
      const store = new GophermartStore(database);
      const [row] = await database.query<{ id: number }>('select id from gophermart.users where login = $1', [user.login]);
      const n = orderNumber();
      await store.insertOrder(row?.id ?? -1, n);
      assert.equal(await store.applyAccrualResult(n, 'PROCESSED', ROOM + 1), 'over_balance_cap');
      assert.equal((await look.order(n))?.status, 'NEW');
      assert.equal(await store.applyAccrualResult(n, 'PROCESSED', ROOM), 'applied');
      assert.equal(await store.applyAccrualResult(n, 'PROCESSED', ROOM), 'unchanged');
      await assert.rejects(
        database.query('update gophermart.users set balance = balance + 1 where login = $1', [user.login]),
        (err: unknown) => sqlState(err) === SQLSTATE.checkViolation,
      );
    } finally {
      await database.close();
    }
  });
});
