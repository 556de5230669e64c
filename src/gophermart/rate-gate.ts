/** Share of the announced limit we allow ourselves, so clock skew and window edges do not trip it. */
export const RATE_HEADROOM = 0.97;

/**
 * Shortest pause after any 429, whatever its Retry-After says. `0` or an HTTP date already
 * past would let every worker ask again at once, straight into the same full window: a loop of
 * thousands of requests a second. One second is the least a delta-seconds Retry-After can ask for.
 */
export const MIN_RATE_LIMIT_PAUSE_MS = 1000;

/**
 * The limit adopted at a 429 that names none when none is known and no POLL_ASSUMED_LIMIT is
 * set: the accrual service's own default RATE_LIMIT.
 */
export const FALLBACK_LIMIT_PER_MINUTE = 1000;

/**
 * Longest pause a 429 can set: a Retry-After a day or a year ahead (a fault, or a proxy's) would
 * otherwise stop crediting on every instance for that long, restarts included, since the pause
 * is kept in the database.
 */
export const MAX_RATE_LIMIT_PAUSE_MS = 60 * 60_000;

/**
 * Halving on 429s that name no limit stops at this share of the limit first assumed: a burst of
 * such 429s (a proxy in front of the service, a brief overload) must not leave the poller at a
 * request a minute for the rest of its life.
 */
export const MIN_ADAPTED_SHARE = 1 / 16;

/**
 * The one door every accrual request of this process goes through. It holds two things:
 * a pause (set by any 429, honoured by every worker — undici's retry handler would only pause
 * the request that saw the 429), and a token bucket whose rate is learnt from the
 * `No more than N requests per minute` body (or adapted when a 429 names no limit), so the
 * limit is not hit again.
 */
export class RateGate {
  private pausedUntil = 0;
  /** Requests per minute the gate keeps under (announced, adopted, or shared by another instance). */
  private limit: number | undefined;
  /**
   * Counts changes of the limit. A request carries the version it was let through under, so the
   * several 429s that answer one batch sent under a limit lower it once, not once each.
   */
  private version = 0;
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
    if (limit === this.limit) return;
    // tokens up to now at the old rate
    this.refill();
    this.limit = limit;
    this.version += 1;
    this.burst = burst;
    this.resize();
  }

  /** The limit per second, with headroom: what every instance together may send (Infinity: none known). */
  private get ratePerSecond(): number {
    return this.limit === undefined ? Infinity : (this.limit / 60) * RATE_HEADROOM;
  }

  /**
   * A 429 answered a request let through under `sentUnder` (the `limitVersion` of then). Pauses
   * every request for Retry-After, at least MIN_RATE_LIMIT_PAUSE_MS, and adapts the rate so the
   * limit is not hit again: to the limit the body announced; when it names none, to
   * `assumedPerMinute` (FALLBACK_LIMIT_PER_MINUTE when 0) if no limit is known, else to half the
   * known one, which did not keep us under it (down to MIN_ADAPTED_SHARE of the assumed one). The
   * pause is at most MAX_RATE_LIMIT_PAUSE_MS. Returns the pause and the limit now in force.
   */
  limited(
    retryAfterMs: number,
    announcedPerMinute: number | undefined,
    sentUnder: number,
    assumedPerMinute: number,
  ): { pauseMs: number; limitPerMinute: number } {
    const pauseMs = Math.min(MAX_RATE_LIMIT_PAUSE_MS, Math.max(MIN_RATE_LIMIT_PAUSE_MS, retryAfterMs));
    this.pause(pauseMs);
    const assumed = assumedPerMinute > 0 ? assumedPerMinute : FALLBACK_LIMIT_PER_MINUTE;
    if (announcedPerMinute !== undefined) this.setLimitPerMinute(announcedPerMinute);
    else if (this.limit === undefined) this.setLimitPerMinute(assumed);
    else if (sentUnder === this.version) {
      // halved, but not under the floor — and never raised by it (an announced limit may be lower)
      const floor = Math.max(1, Math.ceil(assumed * MIN_ADAPTED_SHARE));
      this.setLimitPerMinute(Math.min(this.limit, Math.max(floor, Math.floor(this.limit / 2))));
    }
    return { pauseMs, limitPerMinute: this.limit ?? assumed };
  }

  /** The limit's version now: see `limited`. */
  get limitVersion(): number {
    return this.version;
  }

  /** Requests per minute the gate keeps under, for every instance together (undefined: none known). */
  get limitPerMinute(): number | undefined {
    return this.limit;
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
