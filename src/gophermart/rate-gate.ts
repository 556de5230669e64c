/** Share of the announced limit we allow ourselves, so clock skew and window edges do not trip it. */
export const RATE_HEADROOM = 0.97;

/**
 * The one door every accrual request of this process goes through. It holds two things:
 * a pause (set by any 429, honoured by every worker — undici's retry handler would only pause
 * the request that saw the 429), and a token bucket whose rate is learnt from the
 * `No more than N requests per minute` body, so the limit is not hit again.
 */
export class RateGate {
  private pausedUntil = 0;
  /** The announced limit, with headroom: what every instance together may send. */
  private ratePerSecond = Infinity;
  /** This process's part of it: 1 / the pollers live on the database (AccrualPoller's heartbeat). */
  private share = 1;
  private burst: number | undefined;
  private capacity = Infinity;
  private tokens = Infinity;
  private refilledAt: number;

  constructor(private readonly now: () => number = Date.now) {
    this.refilledAt = now();
  }

  /** Stops all requests until `ms` from now (extends, never shortens, a pause in force). */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }

  /**
   * Adopts the limit the accrual service announced: slightly under N/60 requests per second.
   * `burst` overrides the bucket's capacity (default: a quarter second of traffic).
   */
  setLimitPerMinute(limit: number, burst?: number): void {
    const rate = (limit / 60) * RATE_HEADROOM;
    if (rate === this.ratePerSecond) return;
    this.refill();
    this.ratePerSecond = rate;
    this.burst = burst;
    this.resize();
  }

  /**
   * Sends at `share` of the limit (0 < share ≤ 1): several processes on one database each hold
   * a share, so together they keep under what the accrual service allows.
   */
  setShare(share: number): void {
    const next = Math.min(1, Math.max(Number.MIN_VALUE, share));
    if (next === this.share) return;
    this.refill();
    this.share = next;
    this.resize();
  }

  private resize(): void {
    if (this.ratePerSecond === Infinity) return;
    // A fixed one-minute window allows N in any minute; a bucket allows rate×60 + capacity, so the
    // capacity must stay inside the headroom: a quarter second of traffic, at least one request.
    this.capacity = this.burst ?? Math.max(1, Math.floor(this.sendRate / 4));
    this.tokens = Math.min(this.tokens, this.capacity);
    this.refilledAt = this.now();
  }

  /** This process's share of the limit. */
  get sharePerProcess(): number {
    return this.share;
  }

  /** What this process may send per second. */
  private get sendRate(): number {
    return this.ratePerSecond * this.share;
  }

  /** The announced limit (with headroom) for every process together: the schedule plans with it. */
  get limitPerSecond(): number {
    return this.ratePerSecond;
  }

  /** Milliseconds until the pause ends (0 when open). */
  pausedForMs(): number {
    return Math.max(0, this.pausedUntil - this.now());
  }

  private refill(): void {
    if (this.ratePerSecond === Infinity) return;
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.refilledAt) / 1000) * this.sendRate);
    this.refilledAt = t;
  }

  /**
   * Takes a token without waiting when the gate is open and one is available; otherwise says
   * how long to wait before trying again.
   */
  tryTake(): number {
    const paused = this.pausedForMs();
    if (paused > 0) return paused;
    if (this.ratePerSecond === Infinity) return 0;
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.sendRate) * 1000));
  }
}
