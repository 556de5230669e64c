import type { Migration } from '../kernel/db/migrate.js';

/** The accrual service's own schema: it often shares a database with the loyalty service. */
export const SCHEMA = 'accrual';

/** Longest accepted `match`: keeps its unique index entry under PostgreSQL's btree limit. */
export const MATCH_MAX = 500;

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'reward rules and orders',
    sql: `
      create table accrual.rules (
        -- registration order: the earliest registered wins a tie between equally long matches
        id bigint generated always as identity primary key,
        match text not null unique check (match <> '' and char_length(match) <= ${MATCH_MAX}),
        -- exact decimal as given (12.5, 0.005): never a float
        reward numeric not null check (reward >= 0),
        reward_type text not null check (reward_type in ('%', 'pt')),
        created_at timestamptz not null default now()
      );
      create table accrual.orders (
        number text primary key,
        status text not null default 'REGISTERED' check (status in ('REGISTERED', 'PROCESSING', 'INVALID', 'PROCESSED')),
        -- [{"description": "...", "price": "147.5"}], prices as exact decimal text
        goods jsonb not null,
        -- INVALID_SHARE: decided by the instance that registered the order, whoever processes it
        forced_invalid boolean not null default false,
        -- integer hundredths, set when PROCESSED
        accrual bigint check (accrual >= 0),
        registered_at timestamptz not null default now(),
        -- when the processor may take the next step (REGISTERED → PROCESSING → final)
        due_at timestamptz not null default now(),
        finished_at timestamptz
      );
      create index orders_due on accrual.orders (due_at) where status in ('REGISTERED', 'PROCESSING');
    `,
  },
];
