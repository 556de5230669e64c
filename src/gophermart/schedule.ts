/**
 * When to ask the accrual service again about an order that is not final. The rule spends the
 * request budget on re-asking: every unfinished order is asked once per interval, and the
 * interval is as short as the budget allows — `unfinished / (share × budget)` seconds, never
 * below the floor nor above the cap. An order's age and history do not enter into it, so an
 * order the accrual service learns of late is asked as often as a fresh one.
 */

/**
 * Share of the request budget the schedule plans for re-asks. The rest is room for first
 * questions about new uploads (which are claimed first) and for jitter, so planned re-asks do
 * not meet the rate gate's limit and queue behind each other.
 */
export const REASK_SHARE = 0.8;

/** ±10 % around the planned delay, so a batch answered together does not come back together. */
const JITTER = 0.1;

export interface ScheduleLimits {
  /** Shortest delay between two questions about one order. */
  floorMs: number;
  /** Longest delay between two questions about one order. */
  capMs: number;
}

/**
 * Delay before the next question about an order when `unfinished` orders share a budget of
 * `budgetPerSecond` requests (Infinity: no budget known, the floor applies).
 */
export function reaskDelay(unfinished: number, budgetPerSecond: number, limits: ScheduleLimits, random: () => number = Math.random): number {
  const spreadMs = Number.isFinite(budgetPerSecond) && budgetPerSecond > 0 ? (Math.max(0, unfinished) / (budgetPerSecond * REASK_SHARE)) * 1000 : 0;
  const planned = Math.min(limits.capMs, Math.max(limits.floorMs, spreadMs));
  return Math.min(limits.capMs, planned * (1 - JITTER + 2 * JITTER * random()));
}

/**
 * The request rate the schedule plans with: the rate the accrual service announced in a 429
 * (already with the rate gate's headroom) or, until one arrives, the assumed limit per minute
 * (0 = assume none).
 */
export function budgetPerSecond(learntPerSecond: number, assumedPerMinute: number, headroom: number): number {
  if (Number.isFinite(learntPerSecond)) return learntPerSecond;
  return assumedPerMinute > 0 ? (assumedPerMinute / 60) * headroom : Number.POSITIVE_INFINITY;
}

/**
 * Backs off the whole process while the accrual service keeps failing (5xx, timeouts, refused
 * connections after the quick retries): the k-th failure in a row without any good answer in
 * between reschedules its order at least floor × 2^(k−1) later, capped. One good answer ends it,
 * so a single 5xx among good answers costs its order no more than the normal schedule.
 */
export class OutageBackoff {
  private failuresInARow = 0;
  /**
   * Of those, the latest ones in a row that got no answer at all: a timeout, a connection error,
   * or a status the protocol does not have (5xx, and any other but 200, 204 and 429).
   */
  private unansweredInARow = 0;

  /**
   * Orders left unanswered in a row before the service is taken for down. One or two can be that
   * order's bad luck (a 5xx for it alone); more, with no answer between, is the service.
   */
  static readonly DOWN_AFTER = 3;

  constructor(private readonly limits: ScheduleLimits) {}

  /** An order's question failed; `answered`: the service did answer, with something invalid. */
  failed(answered = false): void {
    this.failuresInARow += 1;
    this.unansweredInARow = answered ? 0 : this.unansweredInARow + 1;
  }

  answered(): void {
    this.failuresInARow = 0;
    this.unansweredInARow = 0;
  }

  /** The service answered, but about nothing (a 429): it is not down; failures keep their count. */
  heard(): void {
    this.unansweredInARow = 0;
  }

  /** The accrual service is taken for down: the poller asks about one order at a time until it answers. */
  get down(): boolean {
    return this.unansweredInARow >= OutageBackoff.DOWN_AFTER;
  }

  /** The least delay for an order rescheduled after a failure (0 when nothing is failing). */
  delayMs(): number {
    if (this.failuresInARow === 0) return 0;
    return Math.min(this.limits.capMs, this.limits.floorMs * 2 ** Math.min(this.failuresInARow - 1, 30));
  }
}

/**
 * The number of unfinished orders in the database, read at most once per `maxAgeMs` (one count
 * per second is cheap; one per answer would not be). A failed read keeps the last value.
 */
export class UnfinishedCount {
  private value = 0;
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<number> | undefined;

  constructor(
    private readonly read: () => Promise<number>,
    private readonly now: () => number,
    private readonly maxAgeMs = 1000,
  ) {}

  async get(): Promise<number> {
    if (this.now() - this.readAt < this.maxAgeMs) return this.value;
    this.reading ??= this.read()
      .then((n) => {
        this.value = n;
        return n;
      })
      .catch(() => this.value)
      .finally(() => {
        this.readAt = this.now();
        this.reading = undefined;
      });
    return this.reading;
  }
}
