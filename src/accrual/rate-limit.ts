/**
 * A fixed one-minute window shared by every client (SPEC §2): the first request after a window
 * has ended opens a new one; within a window at most `limit` requests pass. In memory, per
 * process — each instance counts its own requests.
 */
export const WINDOW_MS = 60_000;
/** `Retry-After` on every refusal (SPEC §2). */
export const RETRY_AFTER_SECONDS = 60;

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class FixedWindowLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private count = 0;

  /** `limit` 0 turns the limiter off. `now` is injectable for tests. */
  constructor(
    readonly limit: number,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.limit > 0;
  }

  /** Counts one request if it may pass; refused requests are not counted. */
  take(): RateDecision {
    if (!this.enabled) return { allowed: true };
    const now = this.now();
    if (now - this.windowStart >= WINDOW_MS) {
      this.windowStart = now;
      this.count = 0;
    }
    if (this.count < this.limit) {
      this.count++;
      return { allowed: true };
    }
    // SPEC §2 fixes the header at 60, the window's length, whatever is left of the window: the
    // service it stands in for answers that way, and clients are written against it.
    return { allowed: false, retryAfterSeconds: RETRY_AFTER_SECONDS };
  }

  /** The 429 body the SPEC prescribes, word for word. */
  message(): string {
    return `No more than ${this.limit} requests per minute allowed`;
  }
}
