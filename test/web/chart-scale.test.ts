import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timeTicks, valueLabel, valueTicks } from '../../web/src/chart-scale.js';

// the ticks follow the local clock; pin it so the expected labels hold on any machine
process.env.TZ = 'UTC';

test('value ticks are round (1, 2, 2.5, 5 × 10^k), start at 0 and reach the maximum', () => {
  // the balance that used to give a clipped ".3,417.28" label and ticks at 6,708.64
  const ticks = valueTicks(341_728);
  assert.deepEqual(ticks, [0, 100_000, 200_000, 300_000, 400_000]);
  assert.deepEqual(
    ticks.map((t) => valueLabel(t, ticks, 'en-US')),
    ['0', '1,000', '2,000', '3,000', '4,000'],
  );
  assert.deepEqual(valueTicks(50_050), [0, 20_000, 40_000, 60_000]);
  assert.deepEqual(valueTicks(0), [0, 20, 40, 60, 80, 100], 'an empty balance still gets an axis up to 1 point');
  assert.deepEqual(valueTicks(441_735, 6), [0, 100_000, 200_000, 300_000, 400_000, 500_000], 'the finest round step that fits');
  assert.deepEqual(valueTicks(441_735, 5), [0, 200_000, 400_000, 600_000]);
  const small = valueTicks(101, 5);
  assert.deepEqual(small, [0, 50, 100, 150]);
  assert.deepEqual(
    small.map((t) => valueLabel(t, small, 'en-US')),
    ['0.0', '0.5', '1.0', '1.5'],
  );
  const quarters = valueTicks(125);
  assert.deepEqual(
    quarters.map((t) => valueLabel(t, quarters, 'en-US')),
    ['0.00', '0.25', '0.50', '0.75', '1.00', '1.25'],
  );
  for (const max of [1, 99, 101, 12_345, 999_999, 123_456_789]) {
    const t = valueTicks(max, 5);
    assert.ok(t.length <= 5 && t.length >= 2, `${max}: ${t}`);
    assert.ok((t.at(-1) ?? 0) >= max, `${max} is covered by ${t}`);
    const step = (t[1] ?? 0) - (t[0] ?? 0);
    assert.match(String(step), /^(1|2|25|5)0*$/, `${max}: step ${step}`);
  }
});

test('time ticks fall on round local times, one distinct label each, never more than asked', () => {
  const at = (iso: string): number => Date.parse(iso);
  const minutes = timeTicks(at('2026-12-01T09:03:10Z'), at('2026-12-01T09:13:10Z'), 6, 'en-GB');
  assert.deepEqual(
    minutes.map((t) => t.label),
    ['09:05', '09:10'],
  );
  const days = timeTicks(at('2026-11-20T13:00:00Z'), at('2026-12-01T09:00:00Z'), 6, 'en-GB');
  assert.deepEqual(
    days.map((t) => t.label),
    ['21 Nov', '23 Nov', '25 Nov', '27 Nov', '29 Nov', '1 Dec'],
  );
  // hourly ticks that cross midnight name the day at the midnight tick instead of "00:00"
  const night = timeTicks(at('2026-11-30T20:10:00Z'), at('2026-12-01T04:00:00Z'), 4, 'en-GB');
  assert.deepEqual(
    night.map((t) => t.label),
    ['21:00', '1 Dec', '03:00'],
  );
  const months = timeTicks(at('2026-01-15T00:00:00Z'), at('2026-12-01T00:00:00Z'), 5, 'en-GB');
  assert.deepEqual(
    months.map((t) => t.label),
    ['Apr 2026', 'Jul 2026', 'Oct 2026'],
  );
  for (const [span, count] of [
    [60_000, 2],
    [3_600_000, 3],
    [86_400_000 * 400, 4],
  ] as const) {
    const start = at('2026-12-01T00:00:30Z');
    const ticks = timeTicks(start, start + span, count);
    assert.ok(ticks.length <= count, `${span} ms: ${ticks.length} ticks`);
    assert.equal(new Set(ticks.map((t) => t.label)).size, ticks.length, 'labels are distinct');
    assert.ok(ticks.every((t) => t.at >= start && t.at <= start + span));
  }
});
