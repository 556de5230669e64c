import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RATE_HEADROOM } from '../../src/gophermart/rate-gate.js';
import { budgetPerSecond, OutageBackoff, REASK_SHARE, reaskDelay, UnfinishedCount } from '../../src/gophermart/schedule.js';

const limits = { floorMs: 1000, capMs: 60_000 };
const middle = (): number => 0.5;

describe('re-ask schedule', () => {
  test('while the budget covers the queue, every order is asked again after the floor, whatever its history', () => {
    // 16 requests/s cover 12 orders at one question per second (with the re-ask share)
    assert.equal(reaskDelay(1, 16, limits, middle), 1000);
    assert.equal(reaskDelay(12, 16, limits, middle), 1000);
    assert.equal(reaskDelay(0, 16, limits, middle), 1000);
    // no budget known: the floor
    assert.equal(reaskDelay(10_000, Number.POSITIVE_INFINITY, limits, middle), 1000);
  });

  test('as the budget gets scarce the interval grows with unfinished orders / budget, up to the cap', () => {
    const perSecond = 2 * RATE_HEADROOM; // a 120/min limit
    const delays = [1, 10, 50, 100, 1000].map((n) => reaskDelay(n, perSecond, limits, middle));
    for (let i = 1; i < delays.length; i++) assert.ok((delays[i] ?? 0) >= (delays[i - 1] ?? 0), `not growing: ${delays.join(', ')}`);
    assert.equal(delays[0], 1000);
    assert.equal(Math.round(delays[1] ?? 0), Math.round((10 / (perSecond * REASK_SHARE)) * 1000));
    assert.equal(delays.at(-1), 60_000);
    // planned demand never exceeds the re-ask share of the budget (until the cap binds)
    for (const n of [10, 50, 90]) assert.ok(n / (reaskDelay(n, perSecond, limits, middle) / 1000) <= perSecond * REASK_SHARE + 1e-9);
  });

  test('jitter stays within ±10 % and never passes the cap', () => {
    assert.equal(
      reaskDelay(1, 16, limits, () => 0),
      900,
    );
    assert.equal(Math.round(reaskDelay(1, 16, limits, () => 0.999_999)), 1100);
    assert.equal(
      reaskDelay(10_000, 1, limits, () => 0.999_999),
      60_000,
    );
  });

  test('budget: the learnt rate wins; until then the assumed limit with headroom; 0 assumes none', () => {
    assert.equal(budgetPerSecond(9.7, 1000, RATE_HEADROOM), 9.7);
    assert.equal(budgetPerSecond(Number.POSITIVE_INFINITY, 600, RATE_HEADROOM), 10 * RATE_HEADROOM);
    assert.equal(budgetPerSecond(Number.POSITIVE_INFINITY, 0, RATE_HEADROOM), Number.POSITIVE_INFINITY);
  });

  test('outage backoff: doubles with failures in a row, capped, ends with one good answer', () => {
    const outage = new OutageBackoff(limits);
    assert.equal(outage.delayMs(), 0);
    outage.failed();
    assert.equal(outage.delayMs(), 1000);
    outage.failed();
    outage.failed();
    assert.equal(outage.delayMs(), 4000);
    for (let i = 0; i < 40; i++) outage.failed();
    assert.equal(outage.delayMs(), 60_000);
    outage.answered();
    assert.equal(outage.delayMs(), 0);
  });

  test('outage: down after three orders in a row got no answer; an invalid answer or a good one is an answer', () => {
    const outage = new OutageBackoff(limits);
    outage.failed();
    outage.failed();
    assert.equal(outage.down, false);
    outage.failed();
    assert.equal(outage.down, true);
    outage.answered();
    assert.equal(outage.down, false);
    outage.failed();
    outage.failed();
    outage.failed(true); // a malformed body: the service is there, if broken for that order
    assert.equal(outage.down, false);
    assert.equal(outage.delayMs(), 4000, 'it still backs the order off');
    outage.failed();
    outage.failed();
    assert.equal(outage.down, false);
    outage.failed();
    assert.equal(outage.down, true);
    // a 429 is heard: not down any more, but the failures keep backing orders off
    outage.heard();
    assert.equal(outage.down, false);
    assert.equal(outage.delayMs(), 32_000);
  });

  test('unfinished count: read at most once per second, concurrent callers share one read, a failed read keeps the last value', async () => {
    let now = 0;
    let reads = 0;
    let fail = false;
    const count = new UnfinishedCount(
      async () => {
        reads += 1;
        if (fail) throw new Error('database down');
        return reads * 10;
      },
      () => now,
    );
    assert.deepEqual(await Promise.all([count.get(), count.get()]), [10, 10]);
    now = 999;
    assert.equal(await count.get(), 10);
    assert.equal(reads, 1);
    now = 1000;
    assert.equal(await count.get(), 20);
    fail = true;
    now = 2000;
    assert.equal(await count.get(), 20);
    assert.equal(reads, 3);
  });
});
