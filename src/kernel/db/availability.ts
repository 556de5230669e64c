import { DatabaseUnavailable, isConnectionFault } from './unavailable.js';

export interface AvailabilityOptions {
  /** One cheap round trip on a connection of its own (not queued behind the pool's work). */
  ping(): Promise<void>;
  /**
   * A check got no answer in time: the network may be cut with connections left open, whose
   * statements would never be answered. The owner drops its connections and opens new ones.
   */
  onUnresponsive?(): void;
  /** Reports each change, once per outage: down with its cause, up with how long it lasted. */
  onChange?(event: { available: false; cause: unknown } | { available: true; outageMs: number }): void;
  /** An operation pending this long makes the guard check the database (a stalled connection). */
  stallMs?: number;
  /** A check that has not answered in this time counts as a failure. */
  probeTimeoutMs?: number;
  /** While down, the database is checked this often. */
  probeIntervalMs?: number;
}

export const AVAILABILITY_DEFAULTS = { stallMs: 500, probeTimeoutMs: 700, probeIntervalMs: 250 } as const;

/** How often pending operations are looked at for a stall; their age is counted in these ticks. */
const TICK_MS = 100;

interface Pending {
  tick: number;
  reject(err: Error): void;
}

/**
 * Keeps callers from waiting on a database that is gone. After a connection fault, or when an
 * operation has been pending for `stallMs`, one check (`ping`) runs; if it fails or does not
 * answer within `probeTimeoutMs` the database is "known down": every operation waiting is
 * answered DatabaseUnavailable at once, and every new one too, without touching the driver, so
 * a burst of requests does not queue. One check every `probeIntervalMs` finds it back.
 *
 * An operation is never cut short while the check passes, so long statements (migrations,
 * batched writes) run to the end on a live database.
 */
export class Availability {
  private down = false;
  private downSince = 0;
  private probing = false;
  private closed = false;
  private tick = 0;
  private readonly pending = new Set<Pending>();
  private readonly ticker: NodeJS.Timeout;
  private readonly stallTicks: number;
  private readonly probeTimeoutMs: number;
  private readonly probeIntervalMs: number;

  constructor(private readonly options: AvailabilityOptions) {
    this.stallTicks = Math.max(1, Math.ceil((options.stallMs ?? AVAILABILITY_DEFAULTS.stallMs) / TICK_MS));
    this.probeTimeoutMs = options.probeTimeoutMs ?? AVAILABILITY_DEFAULTS.probeTimeoutMs;
    this.probeIntervalMs = options.probeIntervalMs ?? AVAILABILITY_DEFAULTS.probeIntervalMs;
    this.ticker = setInterval(() => this.onTick(), TICK_MS);
    this.ticker.unref();
  }

  /** False while the database is known to be down. */
  get available(): boolean {
    return !this.down;
  }

  /** Runs one database operation under the guard; a connection fault becomes DatabaseUnavailable. */
  run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.down) return Promise.reject(new DatabaseUnavailable());
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { tick: this.tick, reject };
      this.pending.add(entry);
      const settle = (err: unknown): void => {
        this.pending.delete(entry);
        if (isConnectionFault(err)) {
          this.probe();
          reject(err instanceof DatabaseUnavailable ? err : new DatabaseUnavailable(err));
        } else reject(err);
      };
      let result: Promise<T>;
      try {
        result = operation();
      } catch (err) {
        settle(err);
        return;
      }
      result.then((value) => {
        this.pending.delete(entry);
        resolve(value);
      }, settle);
    });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.ticker);
  }

  private onTick(): void {
    this.tick++;
    if (this.down || this.probing) return;
    // the Set keeps insertion order: its first entry is the oldest still pending
    const oldest = this.pending.values().next();
    if (!oldest.done && this.tick - oldest.value.tick >= this.stallTicks) this.probe();
  }

  /** One check at a time; a check still hanging after its timeout blocks the next (its connection is bounded). */
  private probe(): void {
    if (this.probing || this.closed) return;
    this.probing = true;
    let answered = false;
    const timer = setTimeout(() => {
      if (answered) return;
      this.markDown(new Error(`database did not answer a check within ${this.probeTimeoutMs} ms`));
      this.options.onUnresponsive?.();
    }, this.probeTimeoutMs);
    let ping: Promise<void>;
    try {
      ping = this.options.ping();
    } catch (err) {
      ping = Promise.reject(err);
    }
    ping
      .then(
        () => {
          answered = true;
          this.markUp();
        },
        (err: unknown) => {
          answered = true;
          this.markDown(err);
        },
      )
      .finally(() => {
        clearTimeout(timer);
        this.probing = false;
        if (this.down && !this.closed) setTimeout(() => this.probe(), this.probeIntervalMs).unref();
      });
  }

  private markDown(cause: unknown): void {
    if (!this.down) {
      this.down = true;
      this.downSince = performance.now();
      this.options.onChange?.({ available: false, cause });
    }
    const waiting = [...this.pending];
    this.pending.clear();
    for (const entry of waiting) entry.reject(new DatabaseUnavailable(cause));
  }

  private markUp(): void {
    if (!this.down) return;
    this.down = false;
    this.options.onChange?.({ available: true, outageMs: Math.round(performance.now() - this.downSince) });
  }
}
