import type { Migration } from '../../kernel/db/migrate.js';

/**
 * The shard's tables, in a schema whose name is configurable (default `shard`) so that two
 * shards of the zero-set-up stack can live in one embedded database.
 */
export function shardMigrations(schema: string): Migration[] {
  const s = schema;
  return [
    {
      version: 1,
      name: 'wallets and transactions',
      sql: `
        create table ${s}.wallets (
          id text primary key,
          -- integer hundredths; the CHECKs are the last line of defence behind the
          -- conditional updates in the store: no balance below zero, no hold above it
          balance bigint not null default 0 constraint wallets_balance_non_negative check (balance >= 0),
          reserved bigint not null default 0 constraint wallets_reserved_bounded check (reserved >= 0 and reserved <= balance),
          created_at timestamptz not null default now()
        );
        -- One row per transaction id: what the orchestrator asked (a hold, a pending credit, a
        -- local transfer, a deposit) or a tombstone left by a cancel that came first. The
        -- primary key is what makes every operation idempotent.
        create table ${s}.transactions (
          tx_id text primary key,
          kind text not null check (kind in ('debit-hold', 'pending-credit', 'transfer', 'deposit', 'tombstone')),
          wallet_id text,
          counterparty text,
          amount bigint check (amount > 0),
          state text not null check (state in ('reserved', 'confirmed', 'cancelled')),
          reason text check (reason in ('insufficient_funds', 'unknown_wallet', 'cancelled')),
          missing_wallet text,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        );
        create index transactions_open on ${s}.transactions (created_at) where state = 'reserved';
      `,
    },
    // Versions 2 and 3 created the operation functions; they now live in functions.ts and are
    // (re)applied at every start-up, so migrations hold only tables.
  ];
}
