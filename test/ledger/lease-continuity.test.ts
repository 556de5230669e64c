import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeaseContinuity } from '../../src/ledger/orchestrator/lease-continuity.js';

const LEASE = 9_000;

test('from its start, it waits one lease of renewals on time before taking anything over', () => {
  const c = new LeaseContinuity(LEASE);
  assert.equal(c.mayTakeOver(0), false, 'not before the first renewal');
  c.renewed(0, 5);
  assert.equal(c.mayTakeOver(10), false, 'just started: the others may not have renewed since an outage');
  c.renewed(3_000, 3_010);
  c.renewed(6_000, 6_010);
  assert.equal(c.mayTakeOver(9_004), false);
  c.renewed(9_000, 9_010);
  assert.equal(c.mayTakeOver(9_020), true);
  for (let t = 12_000; t <= 30_000; t += 3_000) {
    c.renewed(t, t + 20);
    assert.equal(c.mayTakeOver(t + 30), true);
  }
});

test('after its own lease lapsed (an outage) it waits a whole lease of renewals on time', () => {
  const c = new LeaseContinuity(LEASE);
  for (let t = -9_000; t <= 3_000; t += 3_000) c.renewed(t, t + 10);
  // renewals at 6 s, 9 s and 12 s fail: the database is away; the one sent at 15 s gets through
  assert.equal(c.mayTakeOver(11_999), true, 'its lease (until 12 s) still holds');
  assert.equal(c.mayTakeOver(12_000), false, 'its own lease ran out: so may have everyone else’s');
  c.renewed(15_000, 15_040);
  assert.equal(c.mayTakeOver(15_050), false, 'the others have not had a heartbeat yet');
  c.renewed(18_000, 18_010);
  c.renewed(21_000, 21_010);
  assert.equal(c.mayTakeOver(24_039), false);
  c.renewed(24_000, 24_010);
  assert.equal(c.mayTakeOver(24_040), true, 'one lease after the database answered again');
});

test('a renewal stalled past its term (a frozen server that then answers) counts as a break', () => {
  const c = new LeaseContinuity(LEASE);
  for (let t = -9_000; t <= 0; t += 3_000) c.renewed(t, t + 5);
  c.renewed(3_000, 20_000); // sent in time, answered 17 s later: the lease from 0 s ran out at 9 s
  assert.equal(c.mayTakeOver(20_001), false);
  // the stalled renewal's term is counted from when it was sent (3 s): the next one, sent 3 s
  // after the answer, finds that run out too, and the wait starts from its answer
  c.renewed(23_000, 23_010);
  c.renewed(26_000, 26_010);
  c.renewed(29_000, 29_010);
  assert.equal(c.mayTakeOver(32_009), false);
  c.renewed(32_000, 32_010);
  assert.equal(c.mayTakeOver(32_020), true);
});

test('a slow renewal that still lands within the term is no break', () => {
  const c = new LeaseContinuity(LEASE);
  for (let t = -9_000; t <= 0; t += 3_000) c.renewed(t, t + 5);
  c.renewed(3_000, 8_999);
  assert.equal(c.mayTakeOver(9_000), true);
});
