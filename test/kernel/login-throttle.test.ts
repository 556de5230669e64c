import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LoginThrottle } from '../../src/kernel/auth/login-throttle.js';
import { DEFAULT_LOGIN_LIMITS, lockedForMs, type RecordedFailure } from '../../src/kernel/auth/login-window.js';
import type { Database } from '../../src/kernel/db/database.js';
import { migrate } from '../../src/kernel/db/migrate.js';
import { openDatabase } from '../../src/kernel/db/open.js';
import { migrations, SCHEMA } from '../../src/gophermart/migrations.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';

const MIN = 60_000;
const WINDOW = DEFAULT_LOGIN_LIMITS.windowMs;

describe('the sliding window (pure)', () => {
  const failures = (loginKey: string, ...atMs: number[]): RecordedFailure[] => atMs.map((at) => ({ loginKey, atMs: at, pairCleared: false }));

  test('SPEC numbers are the defaults: 10 per pair, 100 per address, 15 minutes', () => {
    assert.deepEqual(DEFAULT_LOGIN_LIMITS, { perPair: 10, perAddress: 100, windowMs: 15 * MIN });
  });

  test('9 failures of a pair leave it open; the 10th locks it until the oldest leaves the window', () => {
    const nine = failures('a', ...Array.from({ length: 9 }, (_, i) => i * MIN));
    assert.equal(lockedForMs(nine, 'a', DEFAULT_LOGIN_LIMITS, 9 * MIN), 0);
    const ten = failures('a', ...Array.from({ length: 10 }, (_, i) => i * MIN));
    assert.equal(lockedForMs(ten, 'a', DEFAULT_LOGIN_LIMITS, 9 * MIN), 6 * MIN);
    // other logins from the same address are not held by this pair
    assert.equal(lockedForMs(ten, 'b', DEFAULT_LOGIN_LIMITS, 9 * MIN), 0);
  });

  test('more failures than the limit (attempts that were in flight) wait for as many to leave as it takes', () => {
    const twelve = failures('a', ...Array.from({ length: 12 }, (_, i) => i * MIN));
    // the count drops to 9 once the three oldest (0, 1, 2 min) have left: at 17 min
    assert.equal(lockedForMs(twelve, 'a', DEFAULT_LOGIN_LIMITS, 12 * MIN), 5 * MIN);
  });

  test('cleared failures of a pair still count for the address', () => {
    const cleared = failures('a', ...Array.from({ length: 10 }, () => 0)).map((f) => ({ ...f, pairCleared: true }));
    assert.equal(lockedForMs(cleared, 'a', DEFAULT_LOGIN_LIMITS, 1), 0);
    const addressFull = [...cleared, ...Array.from({ length: 90 }, (_, i) => failures(`u${i}`, MIN)[0]!)];
    assert.equal(lockedForMs(addressFull, 'a', DEFAULT_LOGIN_LIMITS, 2 * MIN), WINDOW - 2 * MIN);
  });
});

/** The throttle on one of the two databases, with its clock in the test's hands. */
function throttleSuite(name: string, open: () => Promise<{ db: Database; close(): Promise<void> }>): void {
  describe(`LoginThrottle on ${name}`, () => {
    let db: Database;
    let close: () => Promise<void>;
    let nowMs = Date.UTC(2026, 0, 1);
    const clock = () => nowMs;
    let throttle: LoginThrottle;
    let n = 0;
    const address = () => `198.51.100.${++n}`;

    /** A login attempt whose password turns out wrong, as the login route reports it. */
    const wrong = async (login: string, from: string) => {
      const a = await throttle.admit(login, from);
      if (a.admitted) throttle.failed(a.attempt);
      return a;
    };

    before(async () => {
      ({ db, close } = await open());
      await migrate(db, SCHEMA, migrations);
      throttle = new LoginThrottle(db, SCHEMA, DEFAULT_LOGIN_LIMITS, clock);
    });
    after(async () => close?.());

    test('the 11th attempt within 15 minutes is refused; it is admitted once the oldest failure has left the window', async () => {
      const from = address();
      const start = nowMs;
      for (let i = 0; i < 10; i++) {
        assert.equal((await wrong('alice', from)).admitted, true, `attempt ${i + 1}`);
        nowMs += 30_000;
      }
      const refused = await wrong('alice', from);
      assert.deepEqual(refused, { admitted: false, retryAfterSeconds: (start + WINDOW - nowMs) / 1000 });
      assert.equal((await wrong('bob', from)).admitted, true, 'another login from the same address');
      assert.equal((await wrong('alice', address())).admitted, true, 'the same login from another address');
      nowMs = start + WINDOW - 1;
      assert.deepEqual(await wrong('alice', from), { admitted: false, retryAfterSeconds: 1 });
      nowMs = start + WINDOW;
      assert.equal((await wrong('alice', from)).admitted, true);
      // the window slides: the next slot opens when the next-oldest failure leaves
      assert.deepEqual(await wrong('alice', from), { admitted: false, retryAfterSeconds: 30 });
    });

    test('a success gives its slot back and clears the pair, but not the address', async () => {
      const from = address();
      for (let i = 0; i < 9; i++) await wrong('carol', from);
      const last = await throttle.admit('carol', from);
      assert.ok(last.admitted);
      await throttle.succeeded(last.attempt);
      for (let i = 0; i < 10; i++) assert.equal((await wrong('carol', from)).admitted, true, `attempt ${i + 1} after the success`);
      assert.equal((await wrong('carol', from)).admitted, false);
      // 19 failures are still the address's: 81 more fill it
      for (let i = 0; i < 81; i++) assert.equal((await wrong(`spray-${i}`, from)).admitted, true);
      const full = await wrong('someone-new', from);
      assert.equal(full.admitted, false);
    });

    test('a sweep takes every row that left the window, not one batch of them', async () => {
      // more than one sweep batch (10 000): failures from many addresses can come faster than that a minute
      await db.query(
        `insert into ${SCHEMA}.login_failures (address, login_key, failed_at_ms) select '203.0.113.' || (i % 250), 'k', $1::bigint from generate_series(1, 25000) i`,
        [nowMs - WINDOW - 1],
      );
      nowMs += 61_000; // past the once-a-minute spacing of sweeps
      assert.equal((await wrong('sweeper', address())).admitted, true);
      const left = await db.query<{ n: number }>(`select count(*)::int as n from ${SCHEMA}.login_failures where failed_at_ms <= $1`, [nowMs - WINDOW]);
      assert.equal(Number(left[0]?.n), 0);
    });

    test('an abandoned attempt (a fault, not a wrong password) is not a failure', async () => {
      const from = address();
      for (let i = 0; i < 20; i++) {
        const a = await throttle.admit('dave', from);
        assert.ok(a.admitted);
        await throttle.abandoned(a.attempt);
      }
      assert.equal((await throttle.admit('dave', from)).admitted, true);
    });

    /** An attempt as the login route makes it: admitted, then its password found right or wrong after a moment. */
    const tryLogin = async (login: string, from: string, right: boolean): Promise<'checked' | 'refused'> => {
      const a = await throttle.admit(login, from);
      if (!a.admitted) return 'refused';
      await new Promise((r) => setTimeout(r, 5));
      if (right) await throttle.succeeded(a.attempt);
      else throttle.failed(a.attempt);
      return 'checked';
    };

    test('concurrent wrong guesses never get more checks than the limit', async () => {
      const from = address();
      const pair = await Promise.all(Array.from({ length: 30 }, () => tryLogin('erin', from, false)));
      assert.equal(pair.filter((r) => r === 'checked').length, 10);
      const other = address();
      const spray = await Promise.all(Array.from({ length: 130 }, (_, i) => tryLogin(`erin-${i}`, other, false)));
      assert.equal(spray.filter((r) => r === 'checked').length, 100);
    });

    test('attempts held only by checks still in flight wait for them: many right logins at once are all checked', async () => {
      const from = address();
      const right = await Promise.all(Array.from({ length: 40 }, () => tryLogin('grace', from, true)));
      assert.deepEqual(new Set(right), new Set(['checked']));
      // and when those checks fail instead, the waiting attempts are refused, still exactly past the limit
      const mixed = await Promise.all(Array.from({ length: 40 }, () => tryLogin('heidi', from, false)));
      assert.equal(mixed.filter((r) => r === 'checked').length, 10);
    });

    test('failures that left the window are swept', async () => {
      const from = address();
      await wrong('frank', from);
      const count = async () =>
        Number((await db.query<{ n: number }>(`select count(*)::int as n from ${SCHEMA}.login_failures where address = $1`, [from]))[0]?.n);
      assert.equal(await count(), 1);
      nowMs += WINDOW + 2 * MIN;
      await wrong('someone', address());
      assert.equal(await count(), 0);
    });
  });
}

let fresh: FreshDatabase | undefined;
throttleSuite('PostgreSQL', async () => {
  fresh = await freshDatabase('login_throttle');
  const db = await openDatabase({ url: fresh.url, embeddedDir: 'unused', poolSize: 8 });
  return {
    db,
    async close() {
      await db.close();
      await fresh?.drop();
    },
  };
});
throttleSuite('the embedded database', async () => {
  const db = await openDatabase({ url: undefined, embeddedDir: 'memory://' });
  return { db, close: () => db.close() };
});
