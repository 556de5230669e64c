import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { orderNumber } from '../support/accrual.js';
import { processed, tooMany, type FakeReply } from '../support/fake-accrual.js';
import type { FakeAccrual } from '../support/fake-accrual.js';
import { call } from '../support/http.js';
import { newUser, startPollerRig, upload, type PollerRig } from '../support/poller.js';
import { eventually } from '../support/wait.js';
import type { ServiceProcess } from '../support/process.js';

/** Most requests seen in any window of `ms` among `times`. */
function maxInWindow(times: number[], ms: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while ((t[i] ?? 0) - (t[j] ?? 0) >= ms) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('accrual poller under a rate limit (429)', () => {
  let rig: PollerRig;
  let fake: FakeAccrual;
  let gm: ServiceProcess;
  let look: PollerRig['look'];

  before(async () => {
    // requests are counted exactly: no answer may time out on a loaded machine
    rig = await startPollerRig({ ACCRUAL_TIMEOUT: '4s', POLL_LEASE: '10s', POLL_CONCURRENCY: '8' });
    ({ fake, gm, look } = rig);
  });
  after(async () => {
    await rig?.close();
  });

  test('one 429 pauses every request of the process until Retry-After, then the rate adapts to N', async () => {
    const user = await newUser(gm.url);
    const numbers = Array.from({ length: 60 }, () => orderNumber());
    let served = 0;
    let t429 = 0;
    fake.intercept = (n): FakeReply => {
      served += 1;
      if (served === 6) {
        t429 = Date.now();
        return tooMany('2', 600); // 600/min → the poller should settle just under 10/s
      }
      return { ...(processed(n, 1) as object), delayMs: 300 } as FakeReply;
    };
    for (const n of numbers) await upload(gm.url, user.token, n);
    for (const n of numbers) await eventually(`${n} PROCESSED`, () => look.statusIs(n, 'PROCESSED'), 30_000);
    fake.intercept = undefined;

    assert.ok(t429 > 0, 'the 429 was served');
    // Requests the poller started before the 429 reached it may still arrive a little after it was
    // served (a loaded machine delays both sides); from 300 ms on, nothing may arrive until the
    // 2 s Retry-After has passed.
    const during = fake.requests.filter((r) => r.at > t429 + 300 && r.at < t429 + 1950);
    assert.equal(during.length, 0, `requests during the pause: ${during.map((r) => r.at - t429).join(', ')} ms after the 429`);
    // After the pause: no burst above ~10/s (9.7/s plus a small bucket).
    const afterPause = fake.requests.filter((r) => r.at >= t429 + 1950).map((r) => r.at);
    assert.ok(afterPause.length >= 50, `only ${afterPause.length} requests after the pause`);
    // 9.7/s and a bucket of 2 allow 21 in any 2 s; arrival times are read by this (loaded) test
    // process, whose stalls bunch a few arrivals together, hence the slack. Without the learnt
    // rate, 8 workers on 300 ms answers would send ≈ 53 in 2 s.
    const peak = maxInWindow(afterPause, 2000);
    assert.ok(peak <= 28, `${peak} requests in two seconds after learning the 600/min limit`);
    // Every order asked once, plus one repeat for the order that got the 429; credited once each.
    assert.equal(fake.requests.length, 61);
    assert.equal(await look.balance(user.login), 60 * 100);

    const metrics = await call(gm.url, 'GET', '/metrics');
    assert.match(metrics.text, /gophermart_accrual_requests_total\{outcome="rate_limited"[^}]*\} 1\b/);
    assert.match(metrics.text, /gophermart_accrual_rate_limit_per_second\{[^}]*\} 9\.7/);
  });

  test('Retry-After as an HTTP date is honoured too', async () => {
    const user = await newUser(gm.url);
    const n = orderNumber();
    const m = orderNumber();
    let t429 = 0;
    let limited = '';
    const before = fake.requests.length;
    fake.intercept = (num): FakeReply => {
      if (!limited) {
        limited = num;
        t429 = Date.now();
        // HTTP dates have whole seconds: this is 1–2 s from now.
        return tooMany(new Date(Math.floor(Date.now() / 1000) * 1000 + 2000).toUTCString(), 600);
      }
      return processed(num, 2);
    };
    await upload(gm.url, user.token, n);
    await upload(gm.url, user.token, m);
    await eventually('both PROCESSED', async () => ((await look.statusIs(n, 'PROCESSED')) && (await look.statusIs(m, 'PROCESSED')) ? true : undefined), 8000);
    fake.intercept = undefined;
    // the refused order is asked again only once the date has passed
    const again = fake.seen(limited).filter((r) => r.at > t429);
    assert.ok(again.length >= 1, 'the refused order was asked again');
    assert.ok(
      again.every((r) => r.at >= t429 + 900),
      `asked again ${again.map((r) => r.at - t429).join(', ')} ms after a 1–2 s Retry-After date`,
    );
    // the other order may have been on its way when the 429 was served; anything later waited too
    const later = fake.requests.slice(before).filter((r) => r.at > t429 + 300);
    assert.ok(
      later.every((r) => r.at >= t429 + 900),
      `asked ${later.map((r) => r.at - t429).join(', ')} ms after a 1–2 s Retry-After date`,
    );
    assert.equal(await look.balance(user.login), 400);
  });
});

describe('accrual poller under 429s that name no wait and no limit', () => {
  let rig: PollerRig;

  before(async () => {
    rig = await startPollerRig({ ACCRUAL_TIMEOUT: '4s', POLL_LEASE: '10s', POLL_CONCURRENCY: '8' });
  });
  after(async () => {
    await rig?.close();
  });

  test('Retry-After: 0 and an empty body: every 429 still pauses a second, and a rate is adopted', async (t) => {
    const { fake, gm, look } = rig;
    const user = await newUser(gm.url);
    const numbers = Array.from({ length: 8 }, () => orderNumber());
    let refusing = true;
    fake.intercept = (n): FakeReply => (refusing ? { status: 429, headers: { 'retry-after': '0' } } : processed(n, 1));
    for (const n of numbers) await upload(gm.url, user.token, n);
    const first = await eventually('the first 429', async () => fake.requests[0]?.at);
    // The window is what is measured, not a guess at when something happens: whatever the poller
    // does in it is counted. Unpaused (the defect), it sent ≈ 2,600 requests a second here; a
    // one-second floor leaves a few bursts of at most the concurrency (8), and the adopted rate
    // (POLL_ASSUMED_LIMIT's 1000/min, a bucket of 4, halved at each further 429) fewer still.
    await new Promise((r) => setTimeout(r, 3000));
    const inWindow = fake.requests.filter((r) => r.at >= first && r.at < first + 3000).length;
    t.diagnostic(`${inWindow} requests in the 3 s after the first 429`);
    assert.ok(inWindow <= 30, `${inWindow} requests in the 3 s after the first 429`);
    const metrics = await call(gm.url, 'GET', '/metrics');
    const rate = /gophermart_accrual_rate_limit_per_second\{[^}]*\} (\S+)/.exec(metrics.text)?.[1];
    assert.ok(rate !== undefined && Number(rate) > 0, `no rate adopted after 429s naming no limit (gauge: ${rate})`);
    // not the orders' fault: they are all credited once the service answers
    refusing = false;
    for (const n of numbers) await eventually(`${n} PROCESSED`, () => look.statusIs(n, 'PROCESSED'), 30_000);
    assert.equal(await look.balance(user.login), numbers.length * 100);
  });
});
