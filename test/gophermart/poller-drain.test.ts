import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { orderNumber } from '../support/accrual.js';
import { processed, status } from '../support/fake-accrual.js';
import { call } from '../support/http.js';
import { newUser, type PollerRig, startPollerRig, upload } from '../support/poller.js';
import { eventually } from '../support/wait.js';

// Wall time ≈ 70 s, and it cannot be less: a fixed one-minute window that is hit once stays
// shut until the minute is over. Mostly idle waiting, bounded by the test's timeout.
describe('draining 100 orders under a 120/min limit', () => {
  let rig: PollerRig;
  before(async () => {
    rig = await startPollerRig({});
    rig.fake.limitPerMinute(120);
  });
  after(async () => {
    await rig?.close();
  });

  test('at most three 429s; every order credited once', { timeout: 180_000 }, async (t) => {
    const { fake, gm, look } = rig;
    const user = await newUser(gm.url);
    const numbers = Array.from({ length: 100 }, () => orderNumber());
    // 60 known and finished at the first question, 40 still REGISTERED then: 140 questions at
    // least, more than one window allows, so the re-asks meet the limit.
    numbers.forEach((n, i) => {
      if (i % 5 < 3) fake.script(n, processed(n, 2));
      else fake.script(n, status(n, 'REGISTERED'), processed(n, 2));
    });
    const t0 = Date.now();
    for (const n of numbers) await upload(gm.url, user.token, n);
    await eventually(
      'all PROCESSED',
      async () => {
        const [row] = await look.sql<{ n: number }[]>`
          select count(*)::int as n from gophermart.orders where status = 'PROCESSED' and number in ${look.sql(numbers)}`;
        return (row?.n ?? 0) === numbers.length ? true : undefined;
      },
      170_000,
      250,
    );
    t.diagnostic(`drained in ${((Date.now() - t0) / 1000).toFixed(1)} s with ${fake.requests.length} requests, ${fake.refused.length} refused`);
    assert.ok(fake.refused.length >= 1, 'the limit was never met: the scenario tests nothing');
    assert.ok(fake.refused.length <= 3, `${fake.refused.length} requests refused with 429`);
    assert.equal(await look.balance(user.login), 100 * 200);
    const metrics = await call(gm.url, 'GET', '/metrics');
    assert.match(metrics.text, /gophermart_accrual_rate_limit_per_second\{[^}]*\} 1\.94/);
  });
});
