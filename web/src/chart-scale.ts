/**
 * Axis arithmetic for the balance chart: round value ticks and calendar-aligned time ticks, each
 * with exactly one label. Pure functions (no DOM), unit-tested in test/web/chart-scale.test.ts.
 * Values are integer hundredths, like every amount in the app.
 */

/**
 * Ticks from 0 up to at least `max`, 1, 2, 2.5 or 5 × 10^k apart: the finest such step that
 * needs at most `maxCount` ticks, so the top tick overshoots the data as little as possible.
 */
export function valueTicks(max: number, maxCount = 6): number[] {
  const top = Math.max(max, 100);
  const count = Math.max(maxCount, 2);
  let power = 10 ** Math.floor(Math.log10(top / count));
  let step = power;
  for (let found = false; !found; power *= 10) {
    for (const m of [1, 2, 2.5, 5]) {
      step = Math.max(1, Math.round(m * power));
      if (Math.ceil(top / step) + 1 <= count) {
        found = true;
        break;
      }
    }
  }
  const ticks: number[] = [];
  for (let v = 0; ticks.length < count; v += step) {
    ticks.push(v);
    if (v >= top) break;
  }
  return ticks;
}

/** The label of a value tick in points: no decimals unless the step needs them. */
export function valueLabel(hundredths: number, ticks: readonly number[], locale?: string): string {
  const step = ticks.length > 1 ? (ticks[1] ?? 0) - (ticks[0] ?? 0) : 100;
  const digits = step % 100 === 0 ? 0 : step % 10 === 0 ? 1 : 2;
  return new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(hundredths / 100);
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type Step = { ms: number } | { days: number } | { months: number };
const STEPS: Step[] = [
  { ms: MINUTE },
  { ms: 5 * MINUTE },
  { ms: 15 * MINUTE },
  { ms: 30 * MINUTE },
  { ms: HOUR },
  { ms: 3 * HOUR },
  { ms: 6 * HOUR },
  { ms: 12 * HOUR },
  { days: 1 },
  { days: 2 },
  { days: 7 },
  { days: 14 },
  { months: 1 },
  { months: 3 },
  { months: 6 },
  { months: 12 },
];
const approxMs = (s: Step): number => ('ms' in s ? s.ms : 'days' in s ? s.days * DAY : s.months * 30 * DAY);

export interface TimeTick {
  at: number;
  label: string;
}

/** The first tick of `step` at or after `start`, aligned to the local clock and calendar. */
function firstTick(start: number, step: Step): Date {
  const d = new Date(start);
  if ('ms' in step) {
    // local wall-clock alignment: shift by the zone offset, round up, shift back
    const offset = d.getTimezoneOffset() * MINUTE;
    return new Date(Math.ceil((start - offset) / step.ms) * step.ms + offset);
  }
  d.setHours(0, 0, 0, 0);
  if ('months' in step) {
    d.setDate(1);
    while (d.getTime() < start || d.getMonth() % step.months !== 0) d.setMonth(d.getMonth() + 1);
  } else if (d.getTime() < start) d.setDate(d.getDate() + 1);
  return d;
}

function advance(d: Date, step: Step): Date {
  const next = new Date(d.getTime());
  if ('ms' in step) return new Date(d.getTime() + step.ms);
  if ('days' in step) next.setDate(next.getDate() + step.days);
  else next.setMonth(next.getMonth() + step.months);
  return next;
}

/**
 * At most `maxCount` ticks between `start` and `end`, on round local times (whole minutes,
 * hours, midnights, first days of months). Times of day read "14:30"; a tick at midnight reads as
 * its date ("3 Dec"), so a label is never two lines and never repeats the same text.
 */
export function timeTicks(start: number, end: number, maxCount: number, locale?: string): TimeTick[] {
  const span = Math.max(end - start, 1);
  const count = Math.max(maxCount, 2);
  const step = STEPS.find((s) => Math.floor(span / approxMs(s)) + 1 <= count) ?? (STEPS[STEPS.length - 1] as Step);
  const time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const day = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' });
  const month = new Intl.DateTimeFormat(locale, { month: 'short', year: 'numeric' });
  const ticks: TimeTick[] = [];
  for (let d = firstTick(start, step); d.getTime() <= end && ticks.length < count; d = advance(d, step)) {
    const midnight = d.getHours() === 0 && d.getMinutes() === 0;
    const label = 'months' in step ? month.format(d) : 'days' in step || midnight ? day.format(d) : time.format(d);
    ticks.push({ at: d.getTime(), label });
  }
  return ticks;
}
