import type { Migration } from '../kernel/db/migrate.js';
import { loginFailuresMigrationSql } from '../kernel/auth/login-throttle.js';
import { MAX_BALANCE_HUNDREDTHS } from '../kernel/money.js';

/**
 * The largest balance as migration 10 wrote it into its CHECK. A migration is history and must
 * not change with the constant: should MAX_BALANCE_HUNDREDTHS change, a new migration moves the
 * CHECK to it (the service refuses to start while the two disagree).
 */
const MAX_BALANCE_V10 = 1_000_000_000_000_000;
if (MAX_BALANCE_HUNDREDTHS !== MAX_BALANCE_V10)
  throw new Error('MAX_BALANCE_HUNDREDTHS changed: add a gophermart migration that moves the users balance CHECK to it');

/** The channel of user-change notifications; the payload is user ids, comma-separated. */
export const USER_CHANGED_CHANNEL = 'gophermart_user_changed';

/** The channel that says a 429's pause was written to `accrual_pause`: every poller reads it at once. */
export const ACCRUAL_PAUSED_CHANNEL = 'gophermart_accrual_paused';

export const SCHEMA = 'gophermart';

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'users, orders, withdrawals',
    sql: `
      create table gophermart.settings (
        key text primary key,
        value text not null
      );
      create table gophermart.users (
        id bigint generated always as identity primary key,
        login text not null unique,
        password_hash text not null,
        -- current balance and total withdrawn, integer hundredths; the CHECK is the last line
        -- of defence against overdraw, behind the conditional update in the store
        balance bigint not null default 0 constraint users_balance_non_negative check (balance >= 0),
        withdrawn bigint not null default 0 check (withdrawn >= 0),
        created_at timestamptz not null default now()
      );
      create table gophermart.orders (
        id bigint generated always as identity,
        number text primary key,
        user_id bigint not null references gophermart.users (id),
        status text not null default 'NEW' check (status in ('NEW', 'PROCESSING', 'INVALID', 'PROCESSED')),
        accrual bigint not null default 0 check (accrual >= 0),
        uploaded_at timestamptz not null default now(),
        -- accrual poller bookkeeping: when to ask next, how often asked, who holds the claim
        next_poll_at timestamptz not null default now(),
        poll_attempts integer not null default 0,
        claimed_until timestamptz
      );
      create index orders_by_user on gophermart.orders (user_id, id);
      create index orders_due on gophermart.orders (next_poll_at) where status in ('NEW', 'PROCESSING');
      create table gophermart.withdrawals (
        id bigint generated always as identity,
        order_number text primary key,
        user_id bigint not null references gophermart.users (id),
        amount bigint not null check (amount > 0),
        processed_at timestamptz not null default now()
      );
      create index withdrawals_by_user on gophermart.withdrawals (user_id, id);
    `,
  },
  {
    version: 2,
    name: 'accrual poller lanes',
    // The poller claims fresh orders (never asked) before orders it is backing off from, each lane
    // in due order; one partial index per lane keeps both claims a short range scan however many
    // unknown orders wait (PostgreSQL 15 has no skip scan to serve both from one index).
    sql: `
      drop index if exists gophermart.orders_due;
      create index orders_due_fresh on gophermart.orders (next_poll_at) where status in ('NEW', 'PROCESSING') and poll_attempts = 0;
      create index orders_due_retry on gophermart.orders (next_poll_at) where status in ('NEW', 'PROCESSING') and poll_attempts > 0;
    `,
  },
  {
    version: 3,
    name: 'failed logins',
    sql: loginFailuresMigrationSql('gophermart'),
  },
  {
    version: 4,
    name: 'change notifications',
    // Every committed change to what a user reads (balance, orders) is announced on the channel
    // USER_CHANGED_CHANNEL with the user's id, whoever made it: instances keeping users in memory
    // (read-model.ts) drop them. Bookkeeping columns (the poller's lease and schedule) do not notify.
    sql: `
      create function gophermart.notify_user_changed() returns trigger language plpgsql as $fn$
      begin
        perform pg_notify('${USER_CHANGED_CHANNEL}', (case when tg_op = 'DELETE' then to_jsonb(old) else to_jsonb(new) end) ->> tg_argv[0]);
        return null;
      end
      $fn$;
      create trigger orders_inserted_or_deleted after insert or delete on gophermart.orders
        for each row execute function gophermart.notify_user_changed('user_id');
      create trigger orders_changed after update of status, accrual, user_id on gophermart.orders
        for each row when (old.status is distinct from new.status or old.accrual is distinct from new.accrual or old.user_id is distinct from new.user_id)
        execute function gophermart.notify_user_changed('user_id');
      create trigger users_changed after update of balance, withdrawn on gophermart.users
        for each row when (old.balance is distinct from new.balance or old.withdrawn is distinct from new.withdrawn)
        execute function gophermart.notify_user_changed('id');
      create trigger users_deleted after delete on gophermart.users
        for each row execute function gophermart.notify_user_changed('id');
    `,
  },
  {
    version: 5,
    name: 'change notifications from the service',
    // Migration 4's triggers notified inside each writing transaction, which holds PostgreSQL's
    // notification lock through the commit's WAL flush and so ran every upload's commit one after
    // another. The service now announces changes itself after they commit (kernel/db/listener.ts).
    sql: `
      drop trigger if exists orders_inserted_or_deleted on gophermart.orders;
      drop trigger if exists orders_changed on gophermart.orders;
      drop trigger if exists users_changed on gophermart.users;
      drop trigger if exists users_deleted on gophermart.users;
      drop function if exists gophermart.notify_user_changed();
    `,
  },
  {
    version: 6,
    name: 'poller peers',
    // Each instance's poller says it is alive here every few seconds; the live ones split the
    // accrual service's rate limit between them (AccrualPoller's heartbeat, src/gophermart/poller.ts).
    sql: `
      create table gophermart.poller_peers (
        instance_id text primary key,
        seen_at timestamptz not null default now()
      );
    `,
  },
  {
    version: 7,
    name: 'orders without a foreign key to users',
    // The foreign key's check took a KEY SHARE lock on the uploader's users row in every upload,
    // so concurrent uploads by one member queued on that row (and shared it through multixacts):
    // a third of PostgreSQL's insert rate at 32 connections. Users are never deleted, so the
    // upload's own `where exists` (GophermartStore.insertOrder) is the whole check that is needed.
    sql: 'alter table gophermart.orders drop constraint if exists orders_user_id_fkey;',
  },
  {
    version: 8,
    name: 'who holds a claim',
    // The process that claimed an order (its pool's application_name, or its poller's id on the
    // embedded database): once that process is gone its claims are taken over at once instead of
    // when their lease runs out (GophermartStore.releaseClaimsOfGone). Not indexed: the sweep
    // looks only at unfinished orders, which the lanes' partial indexes already cover.
    sql: 'alter table gophermart.orders add column if not exists claimed_by text;',
  },
  {
    version: 9,
    name: 'accrual pause shared by every instance',
    // A 429's pause and the limit the accrual service announced, for every poller on the database
    // and past a restart (in memory alone, a restarted process or another instance hit the limit
    // again). One row at most: the key can only be true. The claims take nothing while
    // paused_until is ahead of the database's now(); each poller's heartbeat adopts the pause, and
    // the limit while it is recent (limit_announced_at), into its rate gate.
    sql: `
      create table gophermart.accrual_pause (
        singleton boolean primary key default true check (singleton),
        paused_until timestamptz,
        limit_per_minute integer check (limit_per_minute > 0),
        limit_announced_at timestamptz
      );
    `,
  },
  {
    version: 10,
    name: 'largest balance',
    // The backstop behind GophermartStore.applyAccrualResult, which credits only what keeps the
    // balance within MAX_BALANCE_HUNDREDTHS: int8 is read as a JS number, so a balance past 2^53
    // hundredths could no longer be read at all (every balance read of its user a 500), and one
    // past 2^46 units no longer shows every hundredth. NOT VALID: a database that already holds
    // such a balance (the credit was not capped before) still starts; every write from now on is
    // checked.
    sql: `alter table gophermart.users add constraint users_balance_within_cap check (balance <= ${MAX_BALANCE_V10}) not valid;`,
  },
];
