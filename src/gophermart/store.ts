import { SQLSTATE, sqlState, type Database, type Queryable } from '../kernel/db/database.js';
import { MAX_BALANCE_HUNDREDTHS } from '../kernel/money.js';

/** The largest PostgreSQL integer: an announced limit above it is as good as none, and stored as it. */
const INT4_MAX = 2_147_483_647;

export type OrderStatus = 'NEW' | 'PROCESSING' | 'INVALID' | 'PROCESSED';

export interface OrderRow {
  number: string;
  status: OrderStatus;
  accrual: number;
  uploaded_at: Date;
}

export interface WithdrawalRow {
  order_number: string;
  amount: number;
  processed_at: Date;
}

export interface BalanceRow {
  balance: number;
  withdrawn: number;
}

/** A user's balance and orders read at one moment (one statement); orders undefined when there are more than asked for. */
export interface UserSnapshot {
  balance: BalanceRow;
  orders: OrderRow[] | undefined;
}

/**
 * What applyAccrualResult did: `applied`, the order moved (and was credited); `unchanged`, it was
 * final already or had that status; `over_balance_cap`, nothing changed because the credit would
 * take the owner's balance past MAX_BALANCE_HUNDREDTHS.
 */
export type AccrualApplied = 'applied' | 'unchanged' | 'over_balance_cap';

export type OrderInsert = { outcome: 'created' } | { outcome: 'exists'; ownedByCaller: boolean; status: OrderStatus };
export type WithdrawOutcome =
  | { outcome: 'done'; processedAt: Date }
  | { outcome: 'repeat'; processedAt: Date }
  | { outcome: 'conflict' }
  | { outcome: 'insufficient' }
  | { outcome: 'unknown_user' };

export interface GophermartStoreEvents {
  /**
   * A write committed that changes what the user reads (balance, orders). Called before the
   * write returns; the announcement to other instances it starts is not waited for: waiting
   * would not make them see the change any sooner (they learn of it when the notification
   * arrives either way), it would only add a commit to every write's answer.
   */
  userChanged?(userId: number): void;
}

/** The only module that knows the gophermart schema's tables. */
export class GophermartStore {
  constructor(
    private readonly db: Database,
    private readonly events: GophermartStoreEvents = {},
  ) {}

  private changed(userId: number | undefined): void {
    if (userId !== undefined) this.events.userChanged?.(userId);
  }

  async findUserByLogin(login: string): Promise<{ id: number; password_hash: string } | undefined> {
    const rows = await this.db.query<{ id: number; password_hash: string }>('select id, password_hash from gophermart.users where login = $1', [login]);
    return rows[0];
  }

  /** Returns the new user's id, or null when the login is taken (also when two registrations race). */
  async createUser(login: string, passwordHash: string): Promise<number | null> {
    const rows = await this.db.query<{ id: number }>(
      'insert into gophermart.users (login, password_hash) values ($1, $2) on conflict (login) do nothing returning id',
      [login, passwordHash],
    );
    return rows[0]?.id ?? null;
  }

  async loginOf(userId: number): Promise<string | undefined> {
    const rows = await this.db.query<{ login: string }>('select login from gophermart.users where id = $1', [userId]);
    return rows[0]?.login;
  }

  /**
   * One statement decides who owns a number: concurrent uploads of the same number serialise
   * on the primary key, so exactly one caller sees `created`. The caller's existence is checked
   * in the same statement without locking the users row (migration 7): users are never deleted.
   */
  async insertOrder(userId: number, number: string): Promise<OrderInsert | 'unknown_user'> {
    const inserted = await this.db.query(
      `insert into gophermart.orders (number, user_id)
       select $1, $2 where exists (select 1 from gophermart.users where id = $2)
       on conflict (number) do nothing returning 1`,
      [number, userId],
    );
    if (inserted.length > 0) {
      this.changed(userId);
      return { outcome: 'created' };
    }
    const rows = await this.db.query<{ user_id: number; status: OrderStatus }>('select user_id, status from gophermart.orders where number = $1', [number]);
    const row = rows[0];
    // nothing inserted and nobody holds the number: the caller is not a user (orders are never deleted)
    if (!row) return 'unknown_user';
    return { outcome: 'exists', ownedByCaller: row.user_id === userId, status: row.status };
  }

  async listOrders(userId: number): Promise<OrderRow[]> {
    return this.db.query<OrderRow & Record<string, unknown>>(
      'select number, status, accrual, uploaded_at from gophermart.orders where user_id = $1 order by id',
      [userId],
    );
  }

  /** Balance and up to `maxOrders` orders (oldest first) in one statement, so both are of the same moment. */
  async userSnapshot(userId: number, maxOrders: number): Promise<UserSnapshot | undefined> {
    const rows = await this.db.query<
      BalanceRow & { number: string | null; status: OrderStatus | null; accrual: number | null; uploaded_at: Date | null } & Record<string, unknown>
    >(
      `select u.balance, u.withdrawn, o.number, o.status, o.accrual, o.uploaded_at
       from gophermart.users u
       left join lateral (
         select id, number, status, accrual, uploaded_at from gophermart.orders where user_id = u.id order by id limit $2
       ) o on true
       where u.id = $1
       order by o.id`,
      [userId, maxOrders + 1],
    );
    const first = rows[0];
    if (!first) return undefined;
    const balance = { balance: first.balance, withdrawn: first.withdrawn };
    if (rows.length > maxOrders) return { balance, orders: undefined };
    const orders: OrderRow[] = [];
    for (const r of rows) {
      if (r.number !== null && r.status !== null && r.accrual !== null && r.uploaded_at !== null) {
        orders.push({ number: r.number, status: r.status, accrual: r.accrual, uploaded_at: r.uploaded_at });
      }
    }
    return { balance, orders };
  }

  async balance(userId: number): Promise<BalanceRow | undefined> {
    const rows = await this.db.query<BalanceRow & Record<string, unknown>>('select balance, withdrawn from gophermart.users where id = $1', [userId]);
    return rows[0];
  }

  /**
   * Balance check, debit and record commit together. The withdrawal row is inserted first so a
   * concurrent retry of the same order number waits on its key and then sees it; the debit is a
   * conditional update, so no interleaving can overdraw.
   */
  async withdraw(userId: number, orderNumber: string, amount: number): Promise<WithdrawOutcome> {
    let outcome: WithdrawOutcome;
    try {
      outcome = await this.db.transaction(async (tx) => {
        const inserted = await tx.query<{ processed_at: Date }>(
          `insert into gophermart.withdrawals (order_number, user_id, amount) values ($1, $2, $3)
           on conflict (order_number) do nothing returning processed_at`,
          [orderNumber, userId, amount],
        );
        const fresh = inserted[0];
        if (!fresh) return this.existingWithdrawal(tx, userId, orderNumber, amount);
        const debited = await tx.query(
          'update gophermart.users set balance = balance - $2, withdrawn = withdrawn + $2 where id = $1 and balance >= $2 returning 1',
          [userId, amount],
        );
        if (debited.length === 0) throw new Rollback((await this.userExistsIn(tx, userId)) ? { outcome: 'insufficient' } : { outcome: 'unknown_user' });
        return { outcome: 'done', processedAt: fresh.processed_at };
      });
    } catch (err) {
      if (err instanceof Rollback) return err.outcome;
      if (sqlState(err) === SQLSTATE.checkViolation) return { outcome: 'insufficient' };
      if (sqlState(err) === SQLSTATE.foreignKeyViolation) return { outcome: 'unknown_user' };
      throw err;
    }
    if (outcome.outcome === 'done') this.changed(userId);
    return outcome;
  }

  private async existingWithdrawal(tx: Queryable, userId: number, orderNumber: string, amount: number): Promise<WithdrawOutcome> {
    const rows = await tx.query<{ user_id: number; amount: number; processed_at: Date }>(
      'select user_id, amount, processed_at from gophermart.withdrawals where order_number = $1',
      [orderNumber],
    );
    const row = rows[0];
    if (row && row.user_id === userId && row.amount === amount) return { outcome: 'repeat', processedAt: row.processed_at };
    return { outcome: 'conflict' };
  }

  private async userExistsIn(tx: Queryable, userId: number): Promise<boolean> {
    return (await tx.query('select 1 from gophermart.users where id = $1', [userId])).length > 0;
  }

  async listWithdrawals(userId: number): Promise<WithdrawalRow[]> {
    return this.db.query<WithdrawalRow & Record<string, unknown>>(
      'select order_number, amount, processed_at from gophermart.withdrawals where user_id = $1 order by id',
      [userId],
    );
  }

  /**
   * Moves an order to a final or intermediate status. Crediting happens only on the transition
   * into PROCESSED from a non-final status, in the same transaction, so a result seen twice (or
   * by two instances) credits once. A credit that would take the balance past
   * MAX_BALANCE_HUNDREDTHS changes nothing: the order is not made final without its credit.
   */
  async applyAccrualResult(number: string, status: 'PROCESSING' | 'INVALID' | 'PROCESSED', accrual = 0): Promise<AccrualApplied> {
    // One statement (so one round trip, atomic by itself): the credit joins on the rows the status
    // update changed. A concurrent duplicate waits on the order's row lock, re-checks the WHERE
    // after the first commits, matches nothing and so credits nothing. (PostgreSQL runs a
    // data-modifying CTE whether or not the outer query reads it.) The cap is checked on the
    // statement's snapshot; a credit committed since is caught by the CHECK (migration 10).
    let rows: { changed: boolean; user_id: number | null; over_cap: boolean }[];
    try {
      rows = await this.db.query<{ changed: boolean; user_id: number | null; over_cap: boolean }>(
        `with changed as (
           update gophermart.orders o set status = $2, accrual = $3, claimed_until = null
           where o.number = $1 and o.status in ('NEW', 'PROCESSING') and (o.status <> $2 or $2 <> 'PROCESSING')
             and ($3::bigint = 0 or exists (select 1 from gophermart.users u where u.id = o.user_id and u.balance <= $4::bigint - $3::bigint))
           returning o.user_id
         ), credited as (
           update gophermart.users u set balance = u.balance + $3
           from changed where u.id = changed.user_id and $3::bigint > 0
           returning 1
         )
         select exists (select 1 from changed) as changed, (select user_id from changed limit 1) as user_id,
                exists (select 1 from gophermart.orders o join gophermart.users u on u.id = o.user_id
                        where o.number = $1 and o.status in ('NEW', 'PROCESSING') and $3::bigint > 0 and u.balance > $4::bigint - $3::bigint) as over_cap`,
        [number, status, status === 'PROCESSED' ? accrual : 0, MAX_BALANCE_HUNDREDTHS],
      );
    } catch (err) {
      // the CHECK refused the credit, and with it the whole statement: the order is unchanged too
      if (sqlState(err) === SQLSTATE.checkViolation) return 'over_balance_cap';
      throw err;
    }
    const row = rows[0];
    if (row?.changed === true) {
      this.changed(row.user_id ?? undefined);
      return 'applied';
    }
    return row?.over_cap === true ? 'over_balance_cap' : 'unchanged';
  }

  /**
   * Claims up to `limit` due orders for `leaseMs`: fresh ones (never asked) first, then those
   * being backed off, each lane oldest due first. One statement, so the row locks taken by
   * `FOR UPDATE SKIP LOCKED` last only for its duration; the lease column is what keeps other
   * processes away while the accrual service is asked, outside any transaction.
   */
  async claimDueOrders(limit: number, leaseMs: number, claimer: string): Promise<ClaimedOrder[]> {
    const rows = await this.claimOrders(limit, leaseMs, claimer, 'due');
    return rows.sort((a, b) => a.lane - b.lane || a.next_poll_at.getTime() - b.next_poll_at.getTime());
  }

  /**
   * Claims the one unfinished order that comes due first, due yet or not: the probe of an accrual
   * service taken for down. While every order waits out its outage backoff none is due, and
   * the poller would not learn of the service's return before the first of them came due (up to
   * POLL_BACKOFF_MAX).
   */
  async claimProbeOrder(leaseMs: number, claimer: string): Promise<ClaimedOrder | undefined> {
    return (await this.claimOrders(1, leaseMs, claimer, 'soonest'))[0];
  }

  /**
   * The claim both of the above make, one partial index scan per lane: `due`, orders due now,
   * fresh ones first; `soonest`, whichever unfinished orders come due first, due yet or not.
   */
  private claimOrders(limit: number, leaseMs: number, claimer: string, which: 'due' | 'soonest'): Promise<ClaimedOrder[]> {
    const due = which === 'due' ? 'and next_poll_at <= now()' : '';
    // while a 429's pause is in force (any instance's, by the database's clock) nothing is claimed
    const unpaused = 'and not exists (select 1 from gophermart.accrual_pause where paused_until > now())';
    return this.db.query<ClaimedOrder & Record<string, unknown>>(
      `with fresh as (
         select number, 0 as lane, next_poll_at from gophermart.orders
         where status in ('NEW', 'PROCESSING') and poll_attempts = 0 ${due} ${unpaused}
           and (claimed_until is null or claimed_until < now())
         order by next_poll_at limit $1 for update skip locked
       ), retry as (
         select number, 1 as lane, next_poll_at from gophermart.orders
         where status in ('NEW', 'PROCESSING') and poll_attempts > 0 ${due} ${unpaused}
           and (claimed_until is null or claimed_until < now())
         order by next_poll_at limit $1 for update skip locked
       ), pick as (
         select number, lane, next_poll_at from (select * from fresh union all select * from retry) lanes
         order by ${which === 'due' ? 'lane, ' : ''}next_poll_at limit $1
       )
       update gophermart.orders o set claimed_until = now() + $2::int * interval '1 millisecond', claimed_by = $3
       from pick where o.number = pick.number
       returning o.number, o.status, o.poll_attempts, pick.lane, pick.next_poll_at`,
      [limit, leaseMs, claimer],
    );
  }

  /**
   * Gives a claimed order back with its next question `delayMs` from now and one more attempt
   * counted; `toProcessing` records that the accrual service knows the order. Only while
   * `claimer` still holds the claim: an answer held through an outage longer than the lease may
   * come back after another process claimed the order, and must not hand that claim back.
   */
  async rescheduleOrder(number: string, delayMs: number, toProcessing: boolean, claimer: string): Promise<void> {
    const rows = await this.db.query<{ user_id: number }>(
      `update gophermart.orders
       set next_poll_at = now() + $2::int * interval '1 millisecond', poll_attempts = poll_attempts + 1, claimed_until = null,
           status = case when $3::boolean then 'PROCESSING' else status end
       where number = $1 and status in ('NEW', 'PROCESSING') and claimed_by = $4
       returning user_id`,
      [number, Math.round(delayMs), toProcessing, claimer],
    );
    // NEW → PROCESSING is visible to the user (a repeat PROCESSING costs one more snapshot load)
    if (toProcessing) this.changed(rows[0]?.user_id);
  }

  /**
   * Ends the claims of processes that are gone, so their orders are asked about again now
   * rather than when the lease runs out (a `kill -9`, a crash). `alive` are the claimers known to
   * be running (this process's own). With `sessions`, a claimer is also alive while a connection
   * of that `application_name` is open (Database.session: other processes on PostgreSQL); without
   * (the embedded database, one process alone) every other claimer is gone. Returns how many.
   */
  async releaseClaimsOfGone(alive: readonly string[], sessions: boolean): Promise<number> {
    // one select per lane, so each reads its own partial index (the unfinished orders), not the table
    const gone = `o.status in ('NEW', 'PROCESSING') and o.claimed_until > now() and o.claimed_by <> all($1::text[])${
      sessions ? ' and o.claimed_by not in (select application_name from pg_stat_activity where application_name is not null)' : ''
    }`;
    const rows = await this.db.query<{ number: string }>(
      `with held as (
         select number from gophermart.orders o where poll_attempts = 0 and ${gone}
         union all
         select number from gophermart.orders o where poll_attempts > 0 and ${gone}
       )
       update gophermart.orders o set claimed_until = null, claimed_by = null
       from held where o.number = held.number and ${gone}
       returning o.number`,
      [alive],
    );
    return rows.length;
  }

  /**
   * The accrual service answers again after an outage: unfinished orders its backoff put off
   * further than `delayMs` (the re-ask schedule's own delay) are due within `delayMs` instead,
   * so they are not kept waiting up to POLL_BACKOFF_MAX for a service that is back. Returns how many.
   */
  async pullForward(delayMs: number): Promise<number> {
    const rows = await this.db.query(
      `update gophermart.orders set next_poll_at = now() + $1::int * interval '1 millisecond'
       where status in ('NEW', 'PROCESSING') and poll_attempts > 0 and next_poll_at > now() + $1::int * interval '1 millisecond'
       returning 1`,
      [Math.round(delayMs)],
    );
    return rows.length;
  }

  /**
   * Announces a 429 to every poller on the database: no claims for `pauseMs` from the database's
   * now() (extending, never shortening, a pause in force), and the limit the accrual service
   * announced with it, if it named one (a limit only guessed stays in the process that guessed).
   */
  async announceAccrualPause(pauseMs: number, announcedPerMinute: number | undefined): Promise<void> {
    const limit = announcedPerMinute === undefined ? null : Math.min(announcedPerMinute, INT4_MAX);
    await this.db.query(
      `insert into gophermart.accrual_pause (singleton, paused_until, limit_per_minute, limit_announced_at)
       values (true, now() + make_interval(secs => $1::float8 / 1000), $2::int, case when $2::int is null then null else now() end)
       on conflict (singleton) do update
       set paused_until = greatest(gophermart.accrual_pause.paused_until, excluded.paused_until),
           limit_per_minute = coalesce(excluded.limit_per_minute, gophermart.accrual_pause.limit_per_minute),
           limit_announced_at = coalesce(excluded.limit_announced_at, gophermart.accrual_pause.limit_announced_at)`,
      [pauseMs, limit],
    );
  }

  /**
   * The pause announced on the database — milliseconds left by the database's clock, so the
   * clocks of the processes do not matter — and the limit announced within the last
   * `limitMemoryMs` (undefined: none, or older: the service's limit may have been raised since,
   * and a poller kept under the old one would never hear of it).
   */
  async accrualPause(limitMemoryMs: number): Promise<{ pausedForMs: number; limitPerMinute: number | undefined }> {
    const rows = await this.db.query<{ paused_for_ms: number | null; limit_per_minute: number | null }>(
      `select greatest(0, extract(epoch from paused_until - now()) * 1000)::float8 as paused_for_ms,
              case when limit_announced_at > now() - make_interval(secs => $1::float8 / 1000) then limit_per_minute end as limit_per_minute
       from gophermart.accrual_pause`,
      [limitMemoryMs],
    );
    const row = rows[0];
    return { pausedForMs: Number(row?.paused_for_ms ?? 0), limitPerMinute: row?.limit_per_minute ?? undefined };
  }

  /** Gives a claimed order back untouched (shutdown, 429): it is due again at once; only `claimer`'s (see rescheduleOrder). */
  async releaseClaim(number: string, claimer: string): Promise<void> {
    await this.db.query(`update gophermart.orders set claimed_until = null where number = $1 and status in ('NEW', 'PROCESSING') and claimed_by = $2`, [
      number,
      claimer,
    ]);
  }

  /**
   * Marks this instance's poller alive and returns how many pollers are (seen within `liveMs`,
   * this one included); pollers not seen for ten times that are forgotten.
   */
  async pollerAlive(instanceId: string, liveMs: number): Promise<number> {
    const rows = await this.db.query<{ live: number }>(
      `with seen as (
         insert into gophermart.poller_peers (instance_id) values ($1)
         on conflict (instance_id) do update set seen_at = now()
       ), forgotten as (
         delete from gophermart.poller_peers where seen_at < now() - make_interval(secs => $2::float8 * 10 / 1000) and instance_id <> $1
       )
       select 1 + count(*)::int as live from gophermart.poller_peers where seen_at >= now() - make_interval(secs => $2::float8 / 1000) and instance_id <> $1`,
      [instanceId, liveMs],
    );
    return rows[0]?.live ?? 1;
  }

  /** A stopping poller leaves, so the others take its share of the rate limit at once. */
  async pollerGone(instanceId: string): Promise<void> {
    await this.db.query('delete from gophermart.poller_peers where instance_id = $1', [instanceId]);
  }

  /**
   * Orders not final yet, due or not: the poller's whole queue. Counted per lane so each count
   * is a scan of its lane's partial index, however many final orders the table holds.
   */
  async countUnfinished(): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      `select (select count(*) from gophermart.orders where status in ('NEW', 'PROCESSING') and poll_attempts = 0)::int
            + (select count(*) from gophermart.orders where status in ('NEW', 'PROCESSING') and poll_attempts > 0)::int as n`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Orders per status, and how many of them are due for a question now (the poller's queue depth). */
  async orderCounts(): Promise<{ status: OrderStatus; total: number; due: number }[]> {
    return this.db.query<{ status: OrderStatus; total: number; due: number }>(
      `select status, count(*) as total,
              count(*) filter (where status in ('NEW', 'PROCESSING') and next_poll_at <= now()) as due
       from gophermart.orders group by status`,
    );
  }
}

export interface ClaimedOrder {
  number: string;
  status: OrderStatus;
  poll_attempts: number;
  /** 0: never asked; 1: asked before and backed off. */
  lane: number;
  next_poll_at: Date;
}

class Rollback extends Error {
  constructor(readonly outcome: WithdrawOutcome) {
    super('rollback');
  }
}
