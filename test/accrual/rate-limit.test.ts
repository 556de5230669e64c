import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FixedWindowLimiter } from '../../src/accrual/rate-limit.js';

test('fixed window: N requests pass, the next is refused with Retry-After 60 until the window ends', () => {
  let now = 1_000_000;
  const limiter = new FixedWindowLimiter(3, () => now);
  assert.deepEqual(limiter.take(), { allowed: true });
  now += 10_000;
  assert.deepEqual(limiter.take(), { allowed: true });
  assert.deepEqual(limiter.take(), { allowed: true });
  assert.deepEqual(limiter.take(), { allowed: false, retryAfterSeconds: 60 });
  now += 49_500;
  assert.deepEqual(limiter.take(), { allowed: false, retryAfterSeconds: 60 }); // 0.5 s left: still the fixed 60
  now += 500;
  assert.deepEqual(limiter.take(), { allowed: true }); // a new window
  assert.equal(limiter.message(), 'No more than 3 requests per minute allowed');
});

test('refused requests do not extend the window or count', () => {
  let now = 0;
  const limiter = new FixedWindowLimiter(1, () => now);
  assert.equal(limiter.take().allowed, true);
  for (let i = 0; i < 100; i++) {
    now += 500;
    const d = limiter.take();
    assert.equal(d.allowed, false);
    if (!d.allowed) assert.equal(d.retryAfterSeconds, 60);
  }
  now = 60_000;
  assert.equal(limiter.take().allowed, true);
});

test('limit 0 turns the limiter off', () => {
  const limiter = new FixedWindowLimiter(0);
  assert.equal(limiter.enabled, false);
  for (let i = 0; i < 10_000; i++) assert.equal(limiter.take().allowed, true);
});
