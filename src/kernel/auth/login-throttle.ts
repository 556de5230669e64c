import { createHash } from 'node:crypto';
import type { Database } from '../db/database.js';
import { DEFAULT_LOGIN_LIMITS, lockedForMs, type LoginLimits, type RecordedFailure } from './login-window.js';

/** An attempt the throttle let through: its slot is already counted as a failure until it succeeds. */
export interface LoginAttempt {
  readonly id: number;
  readonly address: string;
  readonly loginKey: string;
}

export type Admission = { admitted: true; attempt: LoginAttempt } | { admitted: false; retryAfterSeconds: number };

/** Old rows are swept at most this often per process. */
const SWEEP_EVERY_MS = 60_000;
const SWEEP_BATCH = 10_000;

/**
 * Failed-login throttling with its counters in the service's schema (`<schema>.login_failures`),
 * so every instance on the database agrees. Each attempt takes its slot before the password is
 * checked, under a per-address lock: however many guesses race, no more than the limit are ever
 * checked in a window — an attempt in flight already counts as a failure. A successful login
 * gives its slot back and clears the pair's count (the address keeps counting those failures).
 * The window slides: an attempt is refused while the last `windowMs` hold the limit's worth of
 * failures, and `Retry-After` says when the oldest of them leaves it.
 */
export class LoginThrottle {
  private readonly table: string;
  private lastSweepMs = Number.NEGATIVE_INFINITY;

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
    const nowMs = this.clock();
    const outcome = await this.db.transaction(async (tx): Promise<Admission> => {
      // one address's attempts take their slots one at a time; other addresses never wait on it
      await tx.query('select pg_advisory_xact_lock(hashtext($1)::bigint)', [`${this.table}:${address}`]);
      const rows = await tx.query<{ login_key: string; failed_at_ms: number; pair_cleared: boolean }>(
        `select login_key, failed_at_ms, pair_cleared from ${this.table}
          where address = $1 and failed_at_ms > $2 order by failed_at_ms, id`,
        [address, nowMs - this.limits.windowMs],
      );
      const failures: RecordedFailure[] = rows.map((r) => ({ loginKey: r.login_key, atMs: Number(r.failed_at_ms), pairCleared: r.pair_cleared }));
      const waitMs = lockedForMs(failures, loginKey, this.limits, nowMs);
      if (waitMs > 0) return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
      const inserted = await tx.query<{ id: number }>(`insert into ${this.table} (address, login_key, failed_at_ms) values ($1, $2, $3) returning id`, [
        address,
        loginKey,
        nowMs,
      ]);
      const id = inserted[0]?.id;
      if (id === undefined) throw new Error('login_failures insert returned no id');
      return { admitted: true, attempt: { id: Number(id), address, loginKey } };
    });
    await this.sweepNowAndThen(nowMs);
    return outcome;
  }

  /** The pair matched: the attempt was no failure, and the pair's earlier failures stop counting for it. */
  async succeeded(attempt: LoginAttempt): Promise<void> {
    await this.db.query(
      `with released as (delete from ${this.table} where id = $1)
       update ${this.table} set pair_cleared = true where address = $2 and login_key = $3 and id <> $1 and not pair_cleared`,
      [attempt.id, attempt.address, attempt.loginKey],
    );
  }

  /** The attempt could not be decided (a fault, not a wrong password): its slot is given back. */
  async abandoned(attempt: LoginAttempt): Promise<void> {
    await this.db.query(`delete from ${this.table} where id = $1`, [attempt.id]);
  }

  /** Rows that left the window matter to nobody; a bounded batch at most once a minute keeps the table small. */
  private async sweepNowAndThen(nowMs: number): Promise<void> {
    if (nowMs - this.lastSweepMs < SWEEP_EVERY_MS) return;
    this.lastSweepMs = nowMs;
    try {
      await this.db.query(`delete from ${this.table} where id in (select id from ${this.table} where failed_at_ms <= $1 limit ${SWEEP_BATCH})`, [
        nowMs - this.limits.windowMs,
      ]);
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
