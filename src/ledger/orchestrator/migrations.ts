import type { Migration } from '../../kernel/db/migrate.js';
import { loginFailuresMigrationSql } from '../../kernel/auth/login-throttle.js';

export const SCHEMA = 'ledger';

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'users, wallet registry, transaction log',
    sql: `
      create table ledger.settings (
        key text primary key,
        value text not null
      );
      create table ledger.users (
        id bigint generated always as identity primary key,
        login text not null unique,
        password_hash text not null,
        created_at timestamptz not null default now()
      );
      -- Where each wallet lives and who owns it. 'creating' until its shard acknowledged it;
      -- the recovery loop finishes creations interrupted by a crash.
      create table ledger.wallets (
        id text primary key,
        owner_id bigint not null references ledger.users (id),
        shard integer not null check (shard >= 0),
        state text not null default 'creating' check (state in ('creating', 'active')),
        created_at timestamptz not null default now()
      );
      create index wallets_by_owner on ledger.wallets (owner_id);
      create index wallets_creating on ledger.wallets (created_at) where state = 'creating';
      -- The transaction log and the coordinator's durable state. decision is written (and
      -- committed) before phase 2 starts; outcome_* is the final status phase 2 leads to.
      create table ledger.transactions (
        seq bigint generated always as identity unique,
        tx_id text primary key,
        kind text not null check (kind in ('transfer', 'deposit')),
        from_wallet text,
        to_wallet text not null,
        from_shard integer,
        to_shard integer not null,
        amount bigint not null check (amount > 0),
        status text not null default 'PENDING' check (status in ('PENDING', 'PROCESSING', 'INVALID', 'FAILED', 'SUCCESSFUL')),
        note text not null,
        decision text check (decision in ('commit', 'abort')),
        outcome_status text check (outcome_status in ('INVALID', 'FAILED', 'SUCCESSFUL')),
        outcome_note text,
        initiated_at timestamptz not null default now(),
        decided_at timestamptz,
        finished_at timestamptz,
        check ((kind = 'deposit') = (from_wallet is null)),
        check (from_wallet is distinct from to_wallet),
        check (status not in ('INVALID', 'FAILED', 'SUCCESSFUL') or finished_at is not null)
      );
      create index transactions_from on ledger.transactions (from_wallet, seq);
      create index transactions_to on ledger.transactions (to_wallet, seq);
      create index transactions_open on ledger.transactions (seq) where status in ('PENDING', 'PROCESSING');
    `,
  },
  {
    version: 2,
    name: 'failed logins',
    sql: loginFailuresMigrationSql('ledger'),
  },
  {
    version: 3,
    name: 'leases for several orchestrator instances, idempotency keys, history order',
    sql: `
      -- Which orchestrator instance drives an unfinished transaction, and until when: the owner
      -- renews lease_until while it lives; another instance takes over only once it passed.
      alter table ledger.transactions add column lease_owner text, add column lease_until timestamptz;
      -- History reads in (initiated_at, seq) order: the shown time and the order have one source.
      create index transactions_from_initiated on ledger.transactions (from_wallet, initiated_at, seq);
      create index transactions_to_initiated on ledger.transactions (to_wallet, initiated_at, seq);
      drop index ledger.transactions_from;
      drop index ledger.transactions_to;
      create index transactions_open_by_owner on ledger.transactions (lease_owner) where status in ('PENDING', 'PROCESSING');
      -- Idempotency-Key: one row per (caller, key), written in the same statement as what the
      -- request did, so a repeat finds either nothing or the finished answer.
      create table ledger.idempotency_keys (
        scope text not null,
        key text not null,
        fingerprint text not null,
        tx_id text,
        created_at timestamptz not null default now(),
        primary key (scope, key)
      );
      create index idempotency_keys_by_age on ledger.idempotency_keys (created_at);
    `,
  },
  {
    version: 4,
    name: 'one lease row per orchestrator instance',
    sql: `
      -- The lease moves from every transaction row to one row per instance: a transaction is
      -- held by its lease_owner while that instance's alive_until lies ahead. A heartbeat is then
      -- one row however many transactions the instance drives.
      create table ledger.instances (
        id text primary key,
        alive_until timestamptz not null,
        started_at timestamptz not null default now()
      );
      alter table ledger.transactions drop column lease_until;
    `,
  },
  {
    version: 5,
    name: 'refusals kept under their Idempotency-Key',
    sql: `
      -- A request refused after it was judged (403 not the caller's wallet, 404 no such wallet)
      -- keeps its key with the refusal, so a repeat is answered the same way even if the wallet
      -- has changed hands since, and another request under the key is 422.
      alter table ledger.idempotency_keys add column refusal text;
    `,
  },
];
