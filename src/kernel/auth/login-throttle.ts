import { createHash } from 'node:crypto';
import { type Database, deleteInChunks } from '../db/database.js';
import { DEFAULT_LOGIN_LIMITS, lockedForMs, type LoginLimits, type RecordedFailure } from './login-window.js';

/** An attempt the throttle let through: its slot is already counted as a failure until it succeeds. */
export interface LoginAttempt {
  readonly id: number;
  readonly address: string;
  readonly loginKey: string;
}

export type Admission = { admitted: true; attempt: LoginAttempt } | { admitted: false; retryAfterSeconds: number };

type Decision = Admission | { admitted: 'later' };

/** Old rows are swept at most this often per process. */
const SWEEP_EVERY_MS = 60_000;
const SWEEP_BATCH = 10_000;
/**
 * …batch after batch while they come back full, up to this many a sweep. One batch a minute was
 * fewer than a machine with a few more cores checks failed passwords from many addresses (each
 * address holds at most 100 rows, but an IPv6 client has a /64 of them): the table grew for as
 * long as that went on.
 */
const SWEEP_MAX_BATCHES = 100;
/** An attempt held only by this process's own checks in flight looks again when one ends, or after this long. */
const RECHECK_MS = 250;
/** …and gives up (429) after this long: the checks ahead of it are taking far longer than a hash. */
const QUEUE_LIMIT_MS = 5_000;

/**
 * Failed-login throttling with its counters in the service's schema (`<schema>.login_failures`),
 * so every instance on the database agrees. Each attempt takes its slot before the password is
 * checked, under a per-address lock: however many guesses race, no more than the limit are ever
 * checked in a window — an attempt in flight already counts as a failure. A successful login
 * gives its slot back and clears the pair's count (the address keeps counting those failures).
 * The window slides: an attempt is refused while the last `windowMs` hold the limit's worth of
 * failures, and `Retry-After` says when the oldest of them leaves it.
 *
 * An attempt that finds the limit reached only because of this process's own checks still in
 * flight waits for them instead of being refused: they may well succeed (one user signing in
 * from many tabs at once), and if they fail it is refused then. Checks in flight on another
 * instance count as failures until they end.
 */
export class LoginThrottle {
  private readonly table: string;
  private lastSweepMs = Number.NEGATIVE_INFINITY;
  /** Ids of this process's attempts whose passwords are being checked, and how many per address. */
  private readonly inFlight = new Set<number>();
  private readonly inFlightPerAddress = new Map<string, number>();
  /** Per address: how many of its attempts in flight have ended (tells a waiter it missed one), and who waits. */
  private readonly ended = new Map<string, number>();
  private readonly waiters = new Map<string, Array<() => void>>();

  constructor(
    private readonly db: Database,
    schema: string,
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
    private readonly clock: () => number = Date.now,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`unsafe schema name ${schema}`);
    this.table = `${schema}.login_failures`;
  }

  /** Takes a slot for a login attempt from `address`, or says how long the pair or the address is locked. */
  async admit(login: string, address: string): Promise<Admission> {
    const loginKey = keyOf(login);
    const giveUpAt = performance.now() + QUEUE_LIMIT_MS;
    for (;;) {
      const endedBefore = this.ended.get(address) ?? 0;
      const nowMs = this.clock();
      const decision = await this.decide(loginKey, address, nowMs);
      if (decision.admitted !== 'later') {
        await this.sweepNowAndThen(nowMs);
        return decision;
      }
      const left = giveUpAt - performance.now();
      if (left <= 0) return { admitted: false, retryAfterSeconds: 1 };
      // an attempt that ended while this one looked may have freed its slot: look again at once
      if ((this.ended.get(address) ?? 0) === endedBefore) await this.nextEnd(address, Math.min(RECHECK_MS, left));
    }
  }

  private async decide(loginKey: string, address: string, nowMs: number): Promise<Decision> {
    let taken: LoginAttempt | undefined;
    try {
      return await this.db.transaction(async (tx): Promise<Decision> => {
        // one address's attempts take their slots one at a time; other addresses never wait on it
        await tx.query('select pg_advisory_xact_lock(hashtext($1)::bigint)', [`${this.table}:${address}`]);
        const rows = await tx.query<{ id: number; login_key: string; failed_at_ms: number; pair_cleared: boolean }>(
          `select id, login_key, failed_at_ms, pair_cleared from ${this.table}
          where address = $1 and failed_at_ms > $2 order by failed_at_ms, id`,
          [address, nowMs - this.limits.windowMs],
        );
        const failures: RecordedFailure[] = rows.map((r) => ({ loginKey: r.login_key, atMs: Number(r.failed_at_ms), pairCleared: r.pair_cleared }));
        const waitMs = lockedForMs(failures, loginKey, this.limits, nowMs);
        if (waitMs > 0) {
          const settled = failures.filter((_, i) => !this.inFlight.has(Number(rows[i]?.id)));
          if (lockedForMs(settled, loginKey, this.limits, nowMs) === 0) return { admitted: 'later' };
          return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
        }
        const inserted = await tx.query<{ id: number }>(`insert into ${this.table} (address, login_key, failed_at_ms) values ($1, $2, $3) returning id`, [
          address,
          loginKey,
          nowMs,
        ]);
        const id = inserted[0]?.id;
        if (id === undefined) throw new Error('login_failures insert returned no id');
        // in flight from now, before the commit lets the next attempt of this address read the row
        taken = { id: Number(id), address, loginKey };
        this.inFlight.add(taken.id);
        this.inFlightPerAddress.set(address, (this.inFlightPerAddress.get(address) ?? 0) + 1);
        return { admitted: true, attempt: taken };
      });
    } catch (err) {
      if (taken) this.end(taken);
      throw err;
    }
  }

  private nextEnd(address: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const list = this.waiters.get(address) ?? [];
      this.waiters.set(address, list);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const at = list.indexOf(wake);
        if (at >= 0) list.splice(at, 1);
        if (list.length === 0 && this.waiters.get(address) === list) this.waiters.delete(address);
        resolve();
      }, timeoutMs);
      list.push(wake);
    });
  }

  /** This process's check of `attempt` is over: one slot may be free, so one waiter looks again. */
  private end(attempt: LoginAttempt): void {
    if (!this.inFlight.delete(attempt.id)) return;
    const address = attempt.address;
    const stillInFlight = (this.inFlightPerAddress.get(address) ?? 1) - 1;
    if (stillInFlight > 0) this.inFlightPerAddress.set(address, stillInFlight);
    else this.inFlightPerAddress.delete(address);
    const waiting = this.waiters.get(address);
    waiting?.shift()?.();
    if (waiting?.length === 0) this.waiters.delete(address);
    // the count only has to outlive the attempts that can read it: those in flight or waiting
    if (stillInFlight === 0 && !this.waiters.has(address)) this.ended.delete(address);
    else this.ended.set(address, (this.ended.get(address) ?? 0) + 1);
  }

  /** The password did not match: the slot stays taken, as the failed login it is. */
  failed(attempt: LoginAttempt): void {
    this.end(attempt);
  }

  /** The pair matched: the attempt was no failure, and the pair's earlier failures stop counting for it. */
  async succeeded(attempt: LoginAttempt): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        // under the address's lock: two successes of one pair would otherwise update the same rows in opposite orders (deadlock)
        await tx.query('select pg_advisory_xact_lock(hashtext($1)::bigint)', [`${this.table}:${attempt.address}`]);
        await tx.query(
          `with released as (delete from ${this.table} where id = $1)
           update ${this.table} set pair_cleared = true
            where address = $2 and login_key = $3 and failed_at_ms > $4 and id <> $1 and not pair_cleared`,
          [attempt.id, attempt.address, attempt.loginKey, this.clock() - this.limits.windowMs],
        );
      });
    } finally {
      this.end(attempt);
    }
  }

  /** The attempt could not be decided (a fault, not a wrong password): its slot is given back. */
  async abandoned(attempt: LoginAttempt): Promise<void> {
    try {
      await this.db.query(`delete from ${this.table} where id = $1`, [attempt.id]);
    } finally {
      this.end(attempt);
    }
  }

  /** Rows that left the window matter to nobody; a bounded batch at most once a minute keeps the table small. */
  private async sweepNowAndThen(nowMs: number): Promise<void> {
    if (nowMs - this.lastSweepMs < SWEEP_EVERY_MS) return;
    this.lastSweepMs = nowMs;
    try {
      const deleteBatch = async (): Promise<number> =>
        (
          await this.db.query(
            `delete from ${this.table} where id in (select id from ${this.table} where failed_at_ms <= $1 limit ${SWEEP_BATCH}) returning 1`,
            [nowMs - this.limits.windowMs],
          )
        ).length;
      await deleteInChunks(deleteBatch, SWEEP_BATCH, SWEEP_MAX_BATCHES);
    } catch {
      // expired rows never count (every read is limited to the window): the next sweep takes them
      this.lastSweepMs = Number.NEGATIVE_INFINITY;
    }
  }
}

/** Logins are kept only as a digest: a user who typed a password into the login field leaves no trace of it here. */
function keyOf(login: string): string {
  return createHash('sha256').update(login).digest('base64url');
}

/**
 * The table LoginThrottle keeps its counters in, created by a migration of each service with users
 * in that service's schema. Part of those migrations: never change it, add a new migration instead.
 */
export function loginFailuresMigrationSql(schema: 'gophermart' | 'ledger'): string {
  return `
      -- failed-login throttling (kernel/auth/login-throttle.ts): one row per failed login, or per
      -- attempt whose password is being checked; logins only as a digest
      create table ${schema}.login_failures (
        id bigint generated always as identity primary key,
        address text not null,
        login_key text not null,
        failed_at_ms bigint not null,
        pair_cleared boolean not null default false
      );
      create index login_failures_by_address on ${schema}.login_failures (address, failed_at_ms);
      create index login_failures_by_age on ${schema}.login_failures (failed_at_ms);
    `;
}
