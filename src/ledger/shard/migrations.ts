import type { Migration } from '../../kernel/db/migrate.js';
import { MAX_BALANCE_HUNDREDTHS } from '../../kernel/money.js';

/**
 * The maximum balance as migration 4 wrote it into the CHECKs. A migration is history and must
 * not change with the constant: should MAX_BALANCE_HUNDREDTHS change, a new migration
 * replaces the CHECKs (the shard refuses to start while the two disagree, see below).
 */
const MAX_BALANCE_V4 = 1_000_000_000_000_000;

/**
 * The shard's tables, in a schema whose name is configurable (default `shard`) so that two
 * shards of the zero-set-up stack can live in one embedded database.
 */
export function shardMigrations(schema: string): Migration[] {
  if (MAX_BALANCE_HUNDREDTHS !== MAX_BALANCE_V4) throw new Error('MAX_BALANCE_HUNDREDTHS changed: add a shard migration that moves the wallets CHECKs to it');
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
    // (re)applied at every start-up, so migrations hold only tables. Databases made before
    // then have them recorded as applied, hence no new migration may take those numbers.
    {
      version: 4,
      name: 'maximum balance and pending credits',
      sql: `
        -- operations running when this starts finish first (locked in the order they take the
        -- tables, a transaction row and then the wallet, so neither side deadlocks)
        lock table ${s}.transactions, ${s}.wallets in access exclusive mode;
        -- the old definitions credit without counting incoming: until functions.ts installs the
        -- new ones (right after the migrations), a call from a process still on the old version
        -- finds no function and changes nothing (docs/ledger.md: stop those processes first)
        drop function if exists ${s}.reserve(text, text, text, bigint);
        drop function if exists ${s}.transfer(text, text, text, bigint);
        drop function if exists ${s}.deposit(text, text, bigint);
        drop function if exists ${s}.confirm(text);
        drop function if exists ${s}.cancel(text);
        -- integer hundredths the wallet's open pending credits (cross-shard transfers to it that
        -- are reserved, not yet confirmed or cancelled) will add: what reserved is for holds
        alter table ${s}.wallets add column incoming bigint not null default 0;
        update ${s}.wallets w set incoming = p.total
        from (select wallet_id, sum(amount)::bigint as total from ${s}.transactions
              where kind = 'pending-credit' and state = 'reserved' group by wallet_id) p
        where w.id = p.wallet_id;
        -- a wallet already past the maximum (with its open pending credits) cannot take the CHECKs
        -- below: say which, and what to do, instead of the bare constraint error
        do $over$
        declare v_over text;
        begin
          select string_agg(id, ', ' order by id) into v_over
          from (select id from ${s}.wallets where balance + incoming > ${MAX_BALANCE_V4} order by id limit 10) w;
          if v_over is not null then
            raise exception 'wallets above the maximum balance of ${MAX_BALANCE_V4} hundredths (balance plus open pending credits): %; with the previous version still running, move the excess out and let open transfers finish, then start this one', v_over;
          end if;
        end
        $over$;
        -- last line of defence behind the functions' conditional updates: no balance above the
        -- maximum, and every open pending credit fits under it, so a confirm cannot fail
        alter table ${s}.wallets
          add constraint wallets_balance_bounded check (balance <= ${MAX_BALANCE_V4}),
          add constraint wallets_incoming_bounded check (incoming >= 0 and incoming <= ${MAX_BALANCE_V4} - balance);
        alter table ${s}.transactions
          drop constraint transactions_reason_check,
          add constraint transactions_reason_check check (reason in ('insufficient_funds', 'unknown_wallet', 'balance_limit', 'cancelled'));
      `,
    },
  ];
}
