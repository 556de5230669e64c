import { DatabaseUnavailable, isConnectionFault } from './unavailable.js';

export interface AvailabilityOptions {
  /** One cheap round trip on a connection of its own (not queued behind the pool's work). */
  ping(): Promise<void>;
  /**
   * Asked when a check is late: can the server's address be reached at all (a TCP connect)?
   * Yes means the server is slow, not gone (heavy load, a long lock wait): nothing is cut short
   * and the check is awaited. Without it a late check counts as down.
   */
  reachable?(): Promise<boolean>;
  /**
   * The database is known down, or a check got no answer in time: the owner drops every
   * connection (rejecting what waits on them at once) and opens new ones when next used. A
   * network cut leaves connections open and silent, their statements never answered.
   */
  dropConnections?(): void;
  /** Reports each change, once per outage: down with its cause, up with how long it lasted. */
  onChange?(event: { available: false; cause: unknown } | { available: true; outageMs: number }): void;
  /** An operation pending this long makes the guard check the database (a stalled connection). */
  stallMs?: number;
  /** A check that has not answered in this time counts as a failure. */
  probeTimeoutMs?: number;
  /** While down, the database is checked this often. */
  probeIntervalMs?: number;
}

export const AVAILABILITY_DEFAULTS = { stallMs: 400, probeTimeoutMs: 600, probeIntervalMs: 250 } as const;
/**
 * A late check whose server is reachable is awaited this long in all before it counts as down.
 * A frozen server (SIGSTOP, a paused container) still completes TCP handshakes, so it looks
 * reachable: with the stall check's 0.4–0.5 s before the check starts, this keeps its requests
 * within SPEC's 2 s. A live server that takes longer than this for `select 1` is of no use to a
 * request either.
 */
const SLOW_SERVER_LIMIT_MS = 1100;

/** How often pending operations are looked at for a stall; their age is counted in these ticks. */
const TICK_MS = 100;
/** Operations are counted per start tick in a ring this long (6.4 s: far beyond any stall limit). */
const RING = 64;

/**
 * Keeps callers from waiting on a database that is gone. After a connection fault, or when an
 * operation has been pending for `stallMs`, one check (`ping`) runs; if it fails or does not
 * answer within `probeTimeoutMs` the database is "known down": every new operation is answered
 * DatabaseUnavailable at once without touching the driver, so a burst of requests does not
 * queue, and one check every `probeIntervalMs` finds it back. Operations already waiting are
 * answered at once too: the owner drops its connections (`dropConnections`).
 *
 * An operation is never cut short while the check passes, so long statements (migrations,
 * batched writes) run to the end on a live database. The hot path is a counter per start tick:
 * no timer, promise or allocation per operation.
 */
export class Availability {
  private down = false;
  private downSince = 0;
  private probing = false;
  private closed = false;
  private tick = 0;
  /** Operations in flight by the tick they started in (modulo RING). */
  private readonly started = new Uint32Array(RING);
  private readonly ticker: NodeJS.Timeout;
  private readonly stallTicks: number;
  private readonly probeTimeoutMs: number;
  private readonly probeIntervalMs: number;

  constructor(private readonly options: AvailabilityOptions) {
    this.stallTicks = Math.min(RING - 1, Math.max(1, Math.ceil((options.stallMs ?? AVAILABILITY_DEFAULTS.stallMs) / TICK_MS)));
    this.probeTimeoutMs = options.probeTimeoutMs ?? AVAILABILITY_DEFAULTS.probeTimeoutMs;
    this.probeIntervalMs = options.probeIntervalMs ?? AVAILABILITY_DEFAULTS.probeIntervalMs;
    this.ticker = setInterval(() => this.onTick(), TICK_MS);
    this.ticker.unref();
  }

  /** False while the database is known to be down: callers should `refuse()` instead of starting work. */
  get available(): boolean {
    return !this.down;
  }

  /** The answer to an operation while the database is known down. */
  refuse(): Promise<never> {
    return Promise.reject(new DatabaseUnavailable());
  }

  /** Counts an operation as started; hand the returned slot to `end`. */
  begin(): number {
    const slot = this.tick % RING;
    this.started[slot] = (this.started[slot] as number) + 1;
    return slot;
  }

  end(slot: number): void {
    const n = this.started[slot] as number;
    if (n > 0) this.started[slot] = n - 1;
  }

  /** The error to give the caller: a connection fault becomes DatabaseUnavailable (and starts a check). */
  fault(err: unknown): unknown {
    if (!isConnectionFault(err)) return err;
    this.probe();
    return err instanceof DatabaseUnavailable ? err : new DatabaseUnavailable(err);
  }

  /** Runs one database operation under the guard (begin, end and fault around it). */
  run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.down) return this.refuse();
    const slot = this.begin();
    let result: Promise<T>;
    try {
      result = operation();
    } catch (err) {
      this.end(slot);
      return Promise.reject(this.fault(err));
    }
    return result.then(
      (value) => {
        this.end(slot);
        return value;
      },
      (err: unknown) => {
        this.end(slot);
        throw this.fault(err);
      },
    );
  }

  close(): void {
    this.closed = true;
    clearInterval(this.ticker);
  }

  private onTick(): void {
    // a slot being reused keeps its count: an operation pending for longer than the ring then
    // looks young again, which only matters after its stall was noticed long ago
    this.tick++;
    if (this.down || this.probing) return;
    for (let age = this.stallTicks; age < RING; age++) {
      if ((this.started[(this.tick - age + RING) % RING] as number) > 0) {
        this.probe();
        return;
      }
    }
  }

  /** One check at a time; a check still hanging after its timeout blocks the next (its connection is bounded). */
  private probe(): void {
    if (this.probing || this.closed) return;
    this.probing = true;
    let answered = false;
    const late = (): void => {
      const wasDown = this.down;
      this.markDown(new Error(`database did not answer a check within ${this.probeTimeoutMs} ms`));
      // the check's own connection is silent too: new ones for the next check
      if (wasDown) this.options.dropConnections?.();
    };
    let slowTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      if (answered) return;
      const reachable = this.options.reachable;
      if (!reachable || this.down) return late();
      reachable().then(
        (yes) => {
          if (answered) return;
          if (!yes) return late();
          slowTimer = setTimeout(() => {
            if (!answered) late();
          }, SLOW_SERVER_LIMIT_MS - this.probeTimeoutMs);
        },
        () => {
          if (!answered) late();
        },
      );
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
        clearTimeout(slowTimer);
        this.probing = false;
        if (this.down && !this.closed) setTimeout(() => this.probe(), this.probeIntervalMs).unref();
      });
  }

  private markDown(cause: unknown): void {
    if (!this.down) {
      this.down = true;
      this.downSince = performance.now();
      this.options.onChange?.({ available: false, cause });
      this.options.dropConnections?.();
    }
  }

  private markUp(): void {
    if (!this.down) return;
    this.down = false;
    this.options.onChange?.({ available: true, outageMs: Math.round(performance.now() - this.downSince) });
  }
}
